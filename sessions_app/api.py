"""Runs and sessions over HTTP. Routes stay short: services and selectors do the work."""

# No `from __future__ import annotations`: ninja resolves the annotations of a @paginate-wrapped
# view in its own module, where string annotations naming our schemas cannot be found.

from collections.abc import AsyncGenerator, AsyncIterator
from typing import get_args

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Status
from ninja.pagination import paginate

from agentapp import app_agent
from agentapp.agent.events import RunOutputEvent, RunStarted, event_payload
from agentapp.api_types import OBJECT_ERRORS, ErrorOut, Id, Page
from agentapp.errors import Conflict, InvalidInput
from agentapp.observability import metrics
from agentapp.ownership import acting_user, acts_for_others, caller

from . import selectors, services
from .chat.sse import json_frame
from .ratelimit import run_rate_limit_check
from .schemas import (
    RunDetailOut,
    RunIn,
    RunOut,
    SessionDetailOut,
    SessionFilters,
    SessionOut,
    SessionPatchIn,
    SummaryOut,
    SummaryRefreshOut,
)
from .services import normalize_user_id

runs_router = Router(tags=["runs"])
router = Router(tags=["sessions"])

EVENT_NAMES = [cls.event for cls in get_args(RunOutputEvent)]
SSE_DOC = {
    "responses": {
        200: {
            "description": "A RunOut as JSON; with `stream: true` a text/event-stream of typed events "
            "(`event: RunStarted`, `RunContent`, `ToolCallStarted`, `ToolCallCompleted`, `MemoryUpdated`, "
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


async def _sse(events: AsyncGenerator[RunOutputEvent, None]) -> AsyncIterator[bytes]:
    run_id = None
    try:
        with metrics.streaming():
            async for event in events:
                if isinstance(event, RunStarted):
                    run_id = event.run_id
                yield json_frame(event.event, event_payload(event))
        yield json_frame("done", {"run_id": run_id})
    finally:
        await events.aclose()  # a client that goes away cancels the run


def _run_caller(request: HttpRequest, user_id: str | None) -> str:
    """The username the run is for, counted against their run limit (one thread hop for both).

    A person a service key names for the first time is created with their first run, in the same
    transaction as its session, so a run that is refused leaves no one behind.
    """
    if user_id and acts_for_others(caller(request)):
        username = normalize_user_id(user_id)
        if not get_user_model().objects.filter(username=username).exists():
            return username
    user = acting_user(request, user_id)
    run_rate_limit_check(user=user)
    return user.get_username()


@runs_router.post(
    "", response={200: RunOut, 429: ErrorOut, **OBJECT_ERRORS}, openapi_extra=SSE_DOC, summary="Run the agent"
)
async def run_create(request: HttpRequest, payload: RunIn):
    user_id = await sync_to_async(_run_caller)(request, payload.user_id)
    agent = app_agent.agent(acting_user=caller(request))
    session_id = payload.session_id
    if payload.stream:
        events = await agent.arun(
            payload.message, user_id=user_id, session_id=session_id, stream=True, stream_events=True
        )
        response = StreamingHttpResponse(_sse(events), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
    output = await agent.arun(payload.message, user_id=user_id, session_id=session_id)
    return await sync_to_async(selectors.run_get_for_user)(run_id=output.run_id, user=caller(request))


@runs_router.get("/{run_id}", response={200: RunDetailOut, **OBJECT_ERRORS})
def run_detail(request: HttpRequest, run_id: Id):
    return selectors.run_get_for_user(run_id=run_id, user=caller(request))


@runs_router.post("/{run_id}/cancel", response={200: RunOut, 409: ErrorOut, **OBJECT_ERRORS})
def run_cancel(request: HttpRequest, run_id: Id):
    run = selectors.run_get_for_user(run_id=run_id, user=caller(request))
    if not services.run_cancel(run=run):
        raise Conflict(f"run {run_id!r} has already finished", detail={"status": run.status})
    run.refresh_from_db()
    return run


@router.get("", response={200: list[SessionOut], **OBJECT_ERRORS})
@paginate(Page)
def session_list(request: HttpRequest, filters: Query[SessionFilters]):
    user = acting_user(request, filters.user_id)
    sessions = selectors.sessions_for_user(user_pk=user.pk, search=filters.search)
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
    status = app_agent.summary_refresh(session=session)
    return Status(202, {"session_id": session.session_id, "status": status})
