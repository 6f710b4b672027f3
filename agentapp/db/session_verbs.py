"""Agno's session verbs on DjangoDb (`get_session`, `get_sessions`, `upsert_session`,
`rename_session`, `delete_session`, `delete_sessions`), over the same services as the REST API and
with its ownership rule: naming a user, another person's session is not found (reads, deletes) or
refused (writes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Protocol, cast

from agentapp.agent.agent_session import SessionRecord, narrowed_page
from agentapp.agent.db_types import SessionType, is_agent_session
from agentapp.agent.records import DEFAULT_USER_ID, RunRecord, SessionSummaryRecord
from agentapp.errors import SessionNotFound, SessionOwnedByAnotherUser
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services

from .records import session_record


class _Sessions(Protocol):
    """The DjangoDb verbs these build on."""

    def session_get(self, *, session_id: str, user_id: str | None = None) -> SessionRecord | None: ...
    def session_runs(self, *, session_id: str, user_id: str | None = None) -> list[RunRecord]: ...
    def session_rename(self, *, session_id: str, title: str) -> None: ...
    def session_delete(self, *, session_id: str, user_id: str | None = None) -> bool: ...
    def session_summary_get(
        self, *, session_id: str, user_id: str | None = None
    ) -> SessionSummaryRecord | None: ...


class SessionVerbs:
    def _owned(self, session_id: str, user_id: str | None) -> SessionRecord | None:
        db = cast(_Sessions, self)
        try:
            return db.session_get(session_id=session_id, user_id=user_id)
        except SessionOwnedByAnotherUser:
            return None

    def get_session(
        self,
        session_id: str,
        user_id: str | None = None,
        session_type: SessionType | str | None = SessionType.AGENT,
        deserialize: bool = True,
    ) -> SessionRecord | dict[str, Any] | None:
        """The session with its runs (`runs`) and summary; None when there is none (or it is
        another's, or `session_type` is not an agent's). `deserialize=False`: its `to_dict()`."""
        db = cast(_Sessions, self)
        session = self._owned(session_id, user_id) if is_agent_session(session_type) else None
        if session is None:
            return None
        session.runs = db.session_runs(session_id=session_id)
        session.summary = db.session_summary_get(session_id=session_id)
        return session if deserialize else session.to_dict()

    def get_sessions(
        self,
        user_id: str | None = None,
        *,
        search: str | None = None,
        sort_by: str | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
        limit: int | None = None,
        page: int | None = None,
        session_type: SessionType | str | None = None,
        deserialize: bool = True,
        component_id: str | None = None,
        start_timestamp: int | None = None,
        end_timestamp: int | None = None,
    ) -> list[SessionRecord] | list[dict[str, Any]]:
        """Sessions (runs not loaded): one person's, or everyone's; `page` (from 1) of `limit`. Never
        a temporary chat, which `get_session` finds by its id alone."""
        if not is_agent_session(session_type):
            return []
        if component_id or start_timestamp is not None or end_timestamp is not None:
            every = self.get_sessions(user_id, search=search, sort_by=sort_by, sort_order=sort_order)
            assert isinstance(every, list)
            kept = narrowed_page(
                [s for s in every if isinstance(s, SessionRecord)],
                component_id=component_id,
                start_timestamp=start_timestamp,
                end_timestamp=end_timestamp,
                limit=limit,
                page=page,
            )
            return kept if deserialize else [record.to_dict() for record in kept]
        offset = (max(1, page) - 1) * limit if page and limit else 0
        rows = session_selectors.sessions_page(
            username=user_id,
            search=search or "",
            sort_by=sort_by,
            sort_order=sort_order or "desc",
            limit=limit,
            offset=offset,
        )
        records = [session_record(row, row.user.get_username()) for row in rows]
        return records if deserialize else [record.to_dict() for record in records]

    def upsert_session(
        self, session: SessionRecord, deserialize: bool = True
    ) -> SessionRecord | dict[str, Any] | None:
        """Create the session for `session.user_id` (none: "default") when new, then set its name and
        state as given (an empty name leaves it untitled); another person's session id is refused."""
        row = session_services.session_get_or_create_for_run(
            session_id=session.session_id,
            username=session.user_id or DEFAULT_USER_ID,
            agent_name=session.agent_name,
        )
        if session.title:
            session_services.session_rename(session=row, title=session.title)
        session_services.session_state_set(session_id=row.session_id, state=session.session_state)
        return self.get_session(row.session_id, deserialize=deserialize)

    def rename_session(
        self,
        session_id: str,
        session_name: str,
        user_id: str | None = None,
        session_type: SessionType | str | None = SessionType.AGENT,
        deserialize: bool = True,
    ) -> SessionRecord | dict[str, Any] | None:
        db = cast(_Sessions, self)
        if user_id is not None and self._owned(session_id, None) is not None:
            db.session_get(session_id=session_id, user_id=user_id)  # raises for another's session
        if not is_agent_session(session_type):
            return None
        try:
            db.session_rename(session_id=session_id, title=session_name)
        except SessionNotFound:
            return None
        return self.get_session(session_id, deserialize=deserialize)

    def delete_session(self, session_id: str, user_id: str | None = None) -> bool:
        """Delete the session and its runs (the person's memories stay); False when there was none."""
        db = cast(_Sessions, self)
        if self._owned(session_id, user_id) is None:
            return False
        return db.session_delete(session_id=session_id)

    def delete_sessions(self, session_ids: Iterable[str], user_id: str | None = None) -> int:
        return sum(self.delete_session(session_id, user_id) for session_id in session_ids)
