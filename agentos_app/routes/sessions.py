"""AgentOS's sessions: pages of them, one with its chat history, its runs; create, rename, delete."""

# No `from __future__ import annotations`: ninja reads the annotations of the routes at import.

import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from agentapp.api_types import Id
from agentapp.errors import Conflict, InvalidInput, NotFound
from agentapp.ownership import acting_user, caller
from agentos_app import selectors, shapes
from agentos_app.schemas import (
    DeleteSessionsIn,
    OsErrorOut,
    RunFilters,
    RunOut,
    RunPreviewOut,
    SessionCreateIn,
    SessionDetailOut,
    SessionFilters,
    SessionPageOut,
    SessionRenameIn,
    SessionScope,
    SessionUpdateIn,
)
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services

from .common import ERRORS, agent_id, named_person, page_of

router = Router(tags=["sessions"])


def _session(request: HttpRequest, session_id: str, scope: SessionScope) -> Any:
    """The session if the caller may see it (and, when a `user_id` is named, it is that person's)."""
    if scope.type not in (None, "agent"):
        raise NotFound(f"{scope.type} session {session_id!r} not found: only agent sessions are served")
    session = session_selectors.session_get_for_user(session_id=session_id, user=caller(request))
    person = named_person(request, scope.user_id)
    if person is not None and session.user_id != person.pk:
        raise NotFound(f"session {session_id!r} not found")
    return session


@router.get("/sessions", response={200: SessionPageOut, **ERRORS}, summary="List sessions")
def session_list(request: HttpRequest, filters: Query[SessionFilters]):
    """A person's sessions; with a service key and no `user_id`, those of everyone it may act for."""
    person = named_person(request, filters.user_id)
    if filters.type != "agent" or (filters.component_id not in (None, agent_id())):
        sessions = selectors.sessions_visible(viewer=caller(request), person=person).none()
    else:
        sessions = selectors.sessions_visible(
            viewer=caller(request),
            person=person,
            session_name=filters.session_name or "",
            sort_by=filters.sort_by,
            sort_order=filters.sort_order,
        )
    rows, meta = page_of(sessions, page=filters.page, limit=filters.limit)
    return {"data": [shapes.session_row(s, agent_id=agent_id()) for s in rows], "meta": meta}


@router.post(
    "/sessions", response={201: SessionDetailOut, 409: OsErrorOut, **ERRORS}, summary="Create a session"
)
def session_create(request: HttpRequest, payload: SessionCreateIn, scope: Query[SessionScope]):
    if scope.type not in (None, "agent") or payload.team_id or payload.workflow_id:
        raise InvalidInput("only agent sessions are served here (no teams, no workflows)")
    if payload.agent_id not in (None, agent_id()):
        raise NotFound(f"agent {payload.agent_id!r} not found")
    session_id = payload.session_id or str(uuid.uuid4())
    if session_selectors.session_get(session_id=session_id) is not None:
        # The same answer whoever owns it: an id tells nothing about another person's sessions.
        raise Conflict(f"could not create a session with id {session_id!r}: the id is taken")
    with transaction.atomic():  # a refused session leaves no new person behind
        person = acting_user(request, payload.user_id, create=True)
        session = session_services.session_get_or_create_for_run(
            session_id=session_id, username=person.get_username(), agent_name=agent_id()
        )
        if payload.session_name:
            session = session_services.session_rename(session=session, title=payload.session_name)
        if payload.session_state:
            session_services.session_state_set(session_id=session_id, state=payload.session_state)
    session.refresh_from_db()
    return Status(201, shapes.session_detail(session, agent_id=agent_id()))


@router.delete("/sessions", response={204: None, **ERRORS}, summary="Delete sessions")
def session_delete_many(request: HttpRequest, payload: DeleteSessionsIn, scope: Query[SessionScope]):
    """All or none: every session named must be one the caller may delete (else 404, naming it)."""
    if len(payload.session_ids) != len(payload.session_types):
        raise InvalidInput("session_ids and session_types must have the same length")
    with transaction.atomic():
        sessions = [
            _session(request, sid, SessionScope(type=kind, user_id=scope.user_id))
            for sid, kind in dict(zip(payload.session_ids, payload.session_types, strict=True)).items()
        ]
        for session in sessions:
            session_services.session_delete(session=session, by=caller(request))
    return Status(204, None)


@router.get("/sessions/{session_id}", response={200: SessionDetailOut, **ERRORS}, summary="One session")
def session_detail(request: HttpRequest, session_id: Id, scope: Query[SessionScope]):
    return shapes.session_detail(_session(request, session_id, scope), agent_id=agent_id())


@router.patch(
    "/sessions/{session_id}", response={200: SessionDetailOut, **ERRORS}, summary="Update a session"
)
def session_update(
    request: HttpRequest, session_id: Id, payload: SessionUpdateIn, scope: Query[SessionScope]
):
    if payload.metadata is not None or payload.summary is not None:
        raise InvalidInput("metadata and summary are not stored here: send session_name or session_state")
    session = _session(request, session_id, scope)
    with transaction.atomic():  # both or neither
        if payload.session_state is not None:
            session_services.session_state_set(session_id=session.session_id, state=payload.session_state)
        if payload.session_name is not None:
            session = session_services.session_rename(session=session, title=payload.session_name)
    session.refresh_from_db()
    return shapes.session_detail(session, agent_id=agent_id())


@router.delete("/sessions/{session_id}", response={204: None, **ERRORS}, summary="Delete a session")
def session_delete(request: HttpRequest, session_id: Id, scope: Query[SessionScope]):
    session = _session(request, session_id, scope)
    session_services.session_delete(session=session, by=caller(request))
    return Status(204, None)


@router.post(
    "/sessions/{session_id}/rename", response={200: SessionDetailOut, **ERRORS}, summary="Rename a session"
)
def session_rename(
    request: HttpRequest, session_id: Id, payload: SessionRenameIn, scope: Query[SessionScope]
):
    session = session_services.session_rename(
        session=_session(request, session_id, scope), title=payload.session_name
    )
    return shapes.session_detail(session, agent_id=agent_id())


@router.get("/sessions/{session_id}/runs", response={200: list[RunOut], **ERRORS}, summary="A session's runs")
def session_runs(request: HttpRequest, session_id: Id, filters: Query[RunFilters]):
    """The session's runs, oldest first: a bare list, as AgentOS answers."""
    agent = agent_id()
    return [shapes.run_row(run, agent_id=agent) for run in _runs(request, session_id, filters)]


@router.get(
    "/sessions/{session_id}/run-previews",
    response={200: list[RunPreviewOut], **ERRORS},
    summary="A session's runs, in short",
)
def session_run_previews(request: HttpRequest, session_id: Id, filters: Query[RunFilters]):
    """As the session's runs, each with its texts' first 280 characters only."""
    agent = agent_id()
    return [shapes.run_preview(run, agent_id=agent) for run in _runs(request, session_id, filters)]


def _runs(request: HttpRequest, session_id: str, filters: RunFilters) -> Any:
    session = _session(request, session_id, filters)

    def moment(epoch: int | None) -> datetime | None:
        return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)

    return selectors.session_runs(
        session=session,
        created_after=moment(filters.created_after),
        created_before=moment(filters.created_before),
        statuses=[status.lower() for status in filters.status],
    )


@router.get("/sessions/{session_id}/runs/{run_id}", response={200: RunOut, **ERRORS}, summary="One run")
def session_run(request: HttpRequest, session_id: Id, run_id: Id, scope: Query[SessionScope]):
    session = _session(request, session_id, scope)
    run = session_selectors.run_in_session(run_id=run_id, session_pk=session.pk)
    return shapes.run_row(run, agent_id=agent_id())
