"""Runs and sessions over HTTP. Routes stay short: services and selectors do the work."""

# No `from __future__ import annotations`: ninja resolves the annotations of a @paginate-wrapped
# view in its own module, where string annotations naming our schemas cannot be found.

import re
import uuid
from collections.abc import AsyncIterator
from typing import get_args

from asgiref.sync import sync_to_async
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Query, Router, Status
from ninja.pagination import paginate

from agentapp import app_agent
from agentapp.agent import Agent
from agentapp.agent.events import PYTHON_ONLY_EVENTS, RunOutputEvent
from agentapp.api_types import OBJECT_ERRORS, ErrorOut, Id, Page
from agentapp.errors import Conflict, InvalidInput
from agentapp.observability import metrics
from agentapp.ownership import acting_user, caller
from memory_app import services as memory_services
from memory_app.models import MemoryChange

from . import exports, jobs, selectors, services
from .callers import run_caller
from .chat.sse import json_frame
from .live import request_connection_give_back, run_drive, run_follow
from .models import Run
from .ratelimit import run_rate_limit_check
from .schemas import (
    FeedbackIn,
    FeedbackOut,
    RunDetailOut,
    RunForgetOut,
    RunIn,
    RunOut,
    SessionDetailOut,
    SessionExportFilters,
    SessionExportOut,
    SessionFilters,
    SessionOut,
    SessionPatchIn,
    SummaryOut,
    SummaryRefreshOut,
)
from .services import normalize_user_id

runs_router = Router(tags=["runs"])
router = Router(tags=["sessions"])

EVENT_NAMES = [cls.event for cls in get_args(RunOutputEvent) if cls.event not in PYTHON_ONLY_EVENTS]
SSE_DOC = {
    "responses": {
        200: {
            "description": "A RunOut as JSON; with `stream: true` a text/event-stream of typed events "
            "(`event: RunStarted`, `RunContent`, `ModelRetrying`, `ToolCallStarted`, `ToolCallCompleted`, "
            "`MemoryUpdated`, "
            "`RunCompleted` | `RunError` | `RunCancelled`, then `done`), each `data:` a JSON object.",
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "event": {"type": "string", "enum": [*EVENT_NAMES, "done"]},
                            "data": {"type": "string", "description": "a JSON object"},
                        },
                        "required": ["event", "data"],
                    }
                }
            },
        }
    }
}


EVENTS_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Last-Event-ID",
            "required": False,
            "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
            "description": "the id of the last event received: only the events after it are sent",
        }
    ],
    "responses": {
        200: {
            **SSE_DOC["responses"][200],
            "description": "A text/event-stream of the run's "
            "events (as the streamed POST sends them), each with its `id:`, then `done`.",
        }
    },
}


async def _follow(run_id: str, *, after: int = -1) -> AsyncIterator[bytes]:
    """The run's events after `after`, each with its id (a client resumes with Last-Event-ID), then done.
    The run does not depend on this stream: a client that goes away can follow it again."""
    with metrics.streaming():
        async for batch in run_follow(run_id=run_id, after=after):
            for frame in batch:
                yield json_frame(frame.event, frame.data, id=frame.seq)
    yield json_frame("done", {"run_id": run_id})


def _sse_response(stream: AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@runs_router.post(
    "",
    response={200: RunOut, 409: ErrorOut, 429: ErrorOut, **OBJECT_ERRORS},
    openapi_extra=SSE_DOC,
    summary="Run the agent",
)
async def run_create(request: HttpRequest, payload: RunIn):
    """A new turn of a thread; or, with `regenerate_run_id` or `edit_run_id`, a new version of an
    earlier turn (each run names the run it follows as `parent_run_id`). With `temporary: true`, a
    new session is a temporary chat; with `remember: false`, nothing is learned from the turn."""
    if payload.regenerate_run_id or payload.edit_run_id:
        return await _version_run(request, payload)
    if payload.temporary is not None or not payload.remember:
        run, agent = await sync_to_async(_begin_of_kind)(request, payload)
        return await _pending_run(request, run, agent, stream=payload.stream)
    assert payload.message is not None  # RunIn requires it without regenerate_run_id
    user_id, agent = await sync_to_async(run_caller)(request, payload.user_id)
    session_id = payload.session_id
    if payload.stream:
        events = await agent.arun(
            payload.message, user_id=user_id, session_id=session_id, stream=True, stream_events=True
        )
        started = await anext(events)  # RunStarted: the run is stored, and has its id
        run_drive(run_id=started.run_id, events=events, first=started)
        await request_connection_give_back()
        return _sse_response(_follow(started.run_id))
    output = await agent.arun(payload.message, user_id=user_id, session_id=session_id)
    return await sync_to_async(selectors.run_get_for_user)(run_id=output.run_id, user=caller(request))


def _begin_of_kind(request: HttpRequest, payload: RunIn) -> tuple[Run, Agent]:
    """The turn as a pending run in the session named (or a new one) of the kind `temporary` asks
    for: a new session is made so with its run, all or nothing; an existing one of the other kind is
    refused (a chat never changes its kind); with `remember: false`, a run not to be learned from.
    Then it is claimed and run as a chat's run is."""
    assert payload.message is not None
    username, agent = run_caller(request, payload.user_id)
    with transaction.atomic():  # a refused message leaves no new person or session behind
        session = services.session_get_or_create_for_run(
            session_id=payload.session_id or f"ses_{uuid.uuid4().hex}",  # as the Agent names a new one
            username=username,
            agent_name=agent.settings.name,
            temporary=payload.temporary,
        )
        run = services.run_create(
            session=session,
            input=payload.message,
            status=Run.Status.PENDING,
            acting_user=caller(request),
            remember=payload.remember,
        )
    return run, agent


def _version_begin(request: HttpRequest, payload: RunIn) -> tuple[Run, Agent]:
    """The new version's pending run, beside the run named (which the caller must be able to see,
    in the session and for the person the payload names, if it names them, and which must have
    finished), counted against its owner's run limit; and the agent to run it."""
    target = selectors.run_get_for_user(
        run_id=payload.regenerate_run_id or payload.edit_run_id or "", user=caller(request)
    )
    if payload.session_id and payload.session_id != target.session.session_id:
        raise InvalidInput(f"run {target.run_id!r} is not in session {payload.session_id!r}")
    if payload.user_id and normalize_user_id(payload.user_id) != target.user.get_username():
        raise InvalidInput(f"run {target.run_id!r} is not {payload.user_id!r}'s")
    run_rate_limit_check(user=target.user)
    agent = app_agent.agent(acting_user=caller(request))
    text = payload.message if payload.edit_run_id and payload.message is not None else target.input
    run = services.run_edit(run=target, input=text, acting_user=caller(request), remember=payload.remember)
    return run, agent


async def _version_run(request: HttpRequest, payload: RunIn):
    run, agent = await sync_to_async(_version_begin)(request, payload)
    return await _pending_run(request, run, agent, stream=payload.stream)


async def _pending_run(request: HttpRequest, run: Run, agent: Agent, *, stream: bool):
    """Claim and run the pending `run`: its stream, or once it ends, the run as JSON."""
    if stream:
        events = await agent.arun_pending(run.run_id, stream=True)
        if events is not None:
            run_drive(run_id=run.run_id, events=events)
        await request_connection_give_back()
        return _sse_response(_follow(run.run_id))
    await agent.arun_pending(run.run_id)
    return await sync_to_async(selectors.run_get_for_user)(run_id=run.run_id, user=caller(request))


@runs_router.get(
    "/{run_id}/events", response={200: None, 422: ErrorOut, **OBJECT_ERRORS}, openapi_extra=EVENTS_DOC
)
async def run_events(request: HttpRequest, run_id: Id):
    """Follow a run: its events so far, then live, as the streamed POST sends them; after a dropped
    connection, send the last id received as `Last-Event-ID` to get only what came after it."""
    run = await sync_to_async(selectors.run_get_for_user)(run_id=run_id, user=caller(request))
    last_event_id = request.headers.get("Last-Event-ID")
    # ASCII digits, within a bigint: str.isdigit() takes "¹²³", and int() refuses 4,301 digits.
    if last_event_id is not None and not re.fullmatch(r"[0-9]{1,18}", last_event_id.strip()):
        raise InvalidInput("Last-Event-ID must be the id of an event of this stream (a number)")
    if run.status == Run.Status.PENDING:  # a chat's run no one opened yet: following it starts it
        agent = await sync_to_async(app_agent.agent)(acting_user=caller(request))
        events = await agent.arun_pending(run.run_id, stream=True)
        if events is not None:
            run_drive(run_id=run.run_id, events=events)
    await request_connection_give_back()
    return _sse_response(_follow(run.run_id, after=int(last_event_id) if last_event_id is not None else -1))


@runs_router.get("/{run_id}", response={200: RunDetailOut, **OBJECT_ERRORS})
def run_detail(request: HttpRequest, run_id: Id):
    run = selectors.run_get_for_user(run_id=run_id, user=caller(request))
    selectors.versions_attach(runs=[run], session_pk=run.session_id)
    return run


@runs_router.post("/{run_id}/cancel", response={200: RunOut, 409: ErrorOut, **OBJECT_ERRORS})
def run_cancel(request: HttpRequest, run_id: Id):
    run = selectors.run_get_for_user(run_id=run_id, user=caller(request))
    if not services.run_cancel(run=run):
        raise Conflict(f"run {run_id!r} has already finished", detail={"status": run.status})
    run.refresh_from_db()
    return run


@runs_router.post("/{run_id}/forget", response={200: RunForgetOut, **OBJECT_ERRORS})
def run_forget(request: HttpRequest, run_id: Id):
    """Forget what was learned from this run: nothing more is learned from it, the memories it
    created are deleted, the facts it replaced are current again and its corrections undone (each an
    audited change by the API that `…/unforget`, or each memory's `revert`, undoes); what it deleted
    stays deleted, its proposals waiting for review are discarded. An automatic memory update still
    in flight for it stores nothing once this answers."""
    run = selectors.run_get_for_user(run_id=run_id, user=caller(request))
    done = memory_services.run_forget(run=run, actor=MemoryChange.Actor.API, actor_user=caller(request))
    return {
        "run_id": run.run_id,
        "remember": False,
        "memories": done.memories,
        "proposals_discarded": done.proposals,
    }


@runs_router.post("/{run_id}/unforget", response={200: RunForgetOut, **OBJECT_ERRORS})
def run_unforget(request: HttpRequest, run_id: Id):
    """Undo forgetting this run: it is remembered again and what the forget undid comes back (what
    was changed since stays as it is; discarded proposals stay discarded)."""
    run = selectors.run_get_for_user(run_id=run_id, user=caller(request))
    done = memory_services.run_unforget(run=run, actor=MemoryChange.Actor.API, actor_user=caller(request))
    return {"run_id": run.run_id, "remember": True, "memories": done.memories}


@runs_router.post("/{run_id}/feedback", response={200: FeedbackOut, 409: ErrorOut, **OBJECT_ERRORS})
def run_feedback(request: HttpRequest, run_id: Id, payload: FeedbackIn):
    """Thumbs up or down on a completed run's reply, with an optional comment; giving it again
    replaces it. The feedback is the run's person's: a service key (or an operator) acting for them
    relays it, recorded as theirs."""
    run = selectors.run_get_for_user(run_id=run_id, user=caller(request))
    feedback, rated = services.run_feedback_give(
        run=run, user=run.user, rating=payload.rating, comment=payload.comment
    )
    if rated:
        metrics.feedback_given(rating=feedback.rating)
    return feedback


@router.get("", response={200: list[SessionOut], **OBJECT_ERRORS})
@paginate(Page)
def session_list(request: HttpRequest, filters: Query[SessionFilters]):
    user = acting_user(request, filters.user_id)
    sessions = selectors.sessions_for_user(
        user_pk=user.pk, search=filters.search, temporary=filters.temporary
    )
    return sessions.select_related("user").order_by(filters.sort, "-id")


@router.get("/{session_id}", response={200: SessionDetailOut, **OBJECT_ERRORS})
def session_detail(request: HttpRequest, session_id: Id):
    return selectors.session_get_for_user(session_id=session_id, user=caller(request))


@router.patch("/{session_id}", response={200: SessionDetailOut, **OBJECT_ERRORS})
def session_update(request: HttpRequest, session_id: Id, payload: SessionPatchIn):
    session = selectors.session_get_for_user(session_id=session_id, user=caller(request))
    if payload.title is None and payload.session_state is None:
        raise InvalidInput("give a title, a session_state or both")
    with transaction.atomic():  # both or neither
        if payload.session_state is not None:
            services.session_state_set(session_id=session.session_id, state=payload.session_state)
        if payload.title is not None:
            session = services.session_rename(session=session, title=payload.title)
    session.refresh_from_db()
    return session


@router.delete("/{session_id}", response={204: None, **OBJECT_ERRORS})
def session_delete(request: HttpRequest, session_id: Id):
    session = selectors.session_get_for_user(session_id=session_id, user=caller(request))
    services.session_delete(session=session, by=caller(request))
    return Status(204, None)


@router.get(
    "/{session_id}/export",
    response={200: SessionExportOut, **OBJECT_ERRORS},
    openapi_extra={
        "responses": {
            200: {
                "description": "The session as JSON (the default); with `format=markdown` the thread "
                "the chat shows, as a Markdown file.",
                "content": {"text/markdown": {"schema": {"type": "string"}}},
            }
        }
    },
)
def session_export(request: HttpRequest, session_id: Id, filters: Query[SessionExportFilters]):
    """One chat: as the person's full export gives each session (JSON), or as the chat shows it
    (Markdown). The owner's, or a service key's or an operator's acting for them."""
    session = selectors.session_get_for_user(session_id=session_id, user=caller(request))
    if filters.format == "markdown":
        response = HttpResponse(
            exports.session_markdown(session=session), content_type="text/markdown; charset=utf-8"
        )
        name = exports.session_export_filename(session=session, extension="md")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return exports.session_export_get(session=session)


@router.get("/{session_id}/runs", response={200: list[RunOut], **OBJECT_ERRORS})
@paginate(Page)
def session_runs(request: HttpRequest, session_id: Id):
    session = selectors.session_get_for_user(session_id=session_id, user=caller(request))
    return selectors.runs_for_user(user=caller(request), session_id=session.session_id)


@router.get("/{session_id}/summary", response={200: SummaryOut, **OBJECT_ERRORS})
def session_summary(request: HttpRequest, session_id: Id):
    session = selectors.session_get_for_user(session_id=session_id, user=caller(request))
    summary = selectors.session_summary_get(session_pk=session.pk)
    return {
        "session_id": session.session_id,
        "text": summary.text if summary else "",
        "topics": list(summary.topics) if summary else [],
        "last_run_id": summary.last_run.run_id if summary and summary.last_run else None,
        "updated_at": summary.updated_at if summary else None,
    }


@router.post(
    "/{session_id}/summary/refresh", response={202: SummaryRefreshOut, 503: ErrorOut, **OBJECT_ERRORS}
)
def session_summary_refresh(request: HttpRequest, session_id: Id):
    session = selectors.session_get_for_user(session_id=session_id, user=caller(request))
    status = jobs.summary_refresh(session=session)
    return Status(202, {"session_id": session.session_id, "status": status})
