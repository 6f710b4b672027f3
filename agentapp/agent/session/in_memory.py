"""The sessions half of InMemoryDb (agent.in_memory): sessions, their runs and summaries over dicts,
with Agno's session verbs, under the rules DjangoDb keeps (a session is one person's; naming a user,
another person's session is not found by Agno's reads and deletes, refused by its writes)."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from agentapp.llm.types import Message, Usage

from ..agent_session import AgentSession, narrowed_page
from ..db_types import SessionType, is_agent_session
from ..errors import InvalidInput, SessionNotFound, SessionOwnedByAnotherUser
from ..memory.storage import SortOrder
from ..records import (
    DEFAULT_USER_ID,
    EventRecord,
    RunHandle,
    RunRecord,
    SessionSummaryRecord,
    SummaryInputs,
    SummaryTurn,
)
from .ids import check_session_id
from .summaries import MAX_TURN_CHARS

MAX_TITLE = 200
SESSION_SORT_FIELDS = {"created_at": "created_at", "updated_at": "updated_at", "session_name": "title"}


# A fork copies the runs no process is working on (Run.TERMINAL in the database).
SETTLED = ("completed", "error", "cancelled", "paused")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StoredSession:
    session_id: str
    user_id: str
    agent_name: str
    title: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    summary: SessionSummaryRecord | None = None


@dataclass
class StoredRun:
    number: int  # creation order, as a database's primary key
    run_id: str
    session_id: str
    user_id: str
    input: str
    status: str
    model_id: str = ""
    model_provider: str = ""
    content: str = ""
    error: str = ""
    messages: list[Message] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    memories_used: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: now())
    duration_ms: int = 0


class InMemorySessions:
    """A part of InMemoryDb, over its state."""

    _lock: threading.RLock
    _sessions: dict[str, StoredSession]
    _runs: dict[str, StoredRun]
    _numbers: Iterator[int]

    def _handle(self, run: StoredRun) -> RunHandle:
        session = self._sessions[run.session_id]
        return RunHandle(
            run.run_id, run.session_id, run.user_id, run.input, bool(session.title), dict(session.state)
        )

    def _session_for(self, session_id: str, user_id: str, agent_name: str) -> StoredSession:
        """The session, created for `user_id` when new; another person's is refused."""
        with self._lock:
            session = self._sessions.setdefault(session_id, StoredSession(session_id, user_id, agent_name))
            if session.user_id != user_id:
                raise SessionOwnedByAnotherUser(
                    f"session_id {session_id!r} belongs to another user; a session is never shared"
                )
            return session

    def _session(self, session_id: str, user_id: str | None) -> StoredSession | None:
        session = self._sessions.get(session_id)
        if session is not None and user_id is not None and session.user_id != user_id:
            raise SessionOwnedByAnotherUser(f"session_id {session_id!r} belongs to another user")
        return session

    def session_get(self, *, session_id: str, user_id: str | None = None) -> AgentSession | None:
        with self._lock:
            session = self._session(session_id, user_id)
            if session is None:
                return None
            return AgentSession(
                session_id=session.session_id,
                user_id=session.user_id,
                agent_name=session.agent_name,
                title=session.title,
                session_state=dict(session.state),
                created_at=session.created_at,
                updated_at=session.updated_at,
            )

    def chat_history(self, *, session_id: str, user_id: str | None = None) -> list[Message]:
        with self._lock:
            if self._session(session_id, user_id) is None:
                return []
            runs = sorted(
                (r for r in self._runs.values() if r.session_id == session_id), key=lambda r: r.number
            )
            return [message for r in runs for message in r.messages if not message.from_history]

    def session_summary_get(
        self, *, session_id: str, user_id: str | None = None
    ) -> SessionSummaryRecord | None:
        with self._lock:
            session = self._session(session_id, user_id)
            return session.summary if session is not None else None

    def session_first_message(self, *, session_id: str) -> str | None:
        with self._lock:
            runs = sorted(
                (r for r in self._runs.values() if r.session_id == session_id), key=lambda r: r.number
            )
            return runs[0].input if runs else None

    def user_sessions(self, *, user_id: str, limit: int) -> list[AgentSession]:
        with self._lock:
            mine = sorted(
                (s for s in self._sessions.values() if s.user_id == user_id),
                key=lambda s: s.updated_at,
                reverse=True,
            )
            ids = [s.session_id for s in mine[: max(0, limit)]]
        return [record for sid in ids if (record := self.session_get(session_id=sid)) is not None]

    def session_runs(self, *, session_id: str, user_id: str | None = None) -> list[RunRecord]:
        with self._lock:
            if self._session(session_id, user_id) is None:
                return []
            runs = sorted(
                (r for r in self._runs.values() if r.session_id == session_id), key=lambda r: r.number
            )
            return [
                RunRecord(
                    run_id=r.run_id,
                    session_id=r.session_id,
                    user_id=r.user_id,
                    status=r.status,
                    input=r.input,
                    content=r.content,
                    error=r.error,
                    model=r.model_id,
                    model_provider=r.model_provider,
                    created_at=r.created_at,
                    input_tokens=r.usage.input_tokens,
                    output_tokens=r.usage.output_tokens,
                    total_tokens=r.usage.total_tokens,
                    duration_ms=r.duration_ms,
                    messages=list(r.messages),
                )
                for r in runs
            ]

    def session_rename(self, *, session_id: str, title: str) -> None:
        title = " ".join((title or "").split())
        if len(title) > MAX_TITLE:
            raise InvalidInput(f"title is longer than {MAX_TITLE} characters")
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise SessionNotFound(f"session {session_id!r} not found")
            session.title = title

    def session_delete(self, *, session_id: str, user_id: str | None = None) -> bool:
        with self._lock:
            if self._session(session_id, user_id) is None:
                return False
            del self._sessions[session_id]
            for run_id in [r.run_id for r in self._runs.values() if r.session_id == session_id]:
                del self._runs[run_id]
            return True

    def session_fork(self, *, session_id: str, user_id: str | None, new_session_id: str) -> None:
        with self._lock:
            source = self._session(session_id, user_id)
            runs = sorted(
                (r for r in self._runs.values() if r.session_id == session_id and r.status in SETTLED),
                key=lambda r: r.number,
            )
            if source is None or not runs:
                raise InvalidInput("Source session has no runs to fork.")
            copies = {r.run_id: f"run_{uuid.uuid4().hex}" for r in runs}
            summary = source.summary
            if summary is not None:
                last_run_id = copies.get(summary.last_run_id or "")
                summary = replace(summary, session_id=new_session_id, last_run_id=last_run_id)
            self._sessions[new_session_id] = replace(
                source, session_id=new_session_id, state=copy.deepcopy(source.state), summary=summary
            )
            for run in runs:
                self._runs[copies[run.run_id]] = replace(
                    run,
                    number=next(self._numbers),
                    run_id=copies[run.run_id],
                    session_id=new_session_id,
                    messages=copy.deepcopy(run.messages),
                    events=[],
                )

    def session_state_set(self, *, session_id: str, state: dict[str, Any]) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise SessionNotFound(f"session {session_id!r} not found")
            session.state = copy.deepcopy(dict(state))
            session.updated_at = now()

    def session_title_set(self, *, session_id: str, title: str) -> bool:
        title = " ".join((title or "").split())[:MAX_TITLE]
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.title or not title:
                return False
            session.title = title
            return True

    def summary_inputs(self, *, session_id: str, max_runs: int) -> SummaryInputs | None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            covered = session.summary.last_run_id if session.summary else None
            after = self._runs[covered].number if covered in self._runs else 0
            pending = sorted(
                (
                    r
                    for r in self._runs.values()
                    if r.session_id == session_id and r.status == "completed" and r.number > after
                ),
                key=lambda r: r.number,
            )
            turns = [
                SummaryTurn(self._handle(r), r.input[:MAX_TURN_CHARS], r.content[:MAX_TURN_CHARS])
                for r in pending[:max_runs]
            ]
            return SummaryInputs(summary=session.summary, turns=turns, more=len(pending) > max_runs)

    def summary_save(
        self,
        *,
        session_id: str,
        summary: str,
        topics: Sequence[str],
        last_run_id: str,
        expected_last_run_id: str | None,
    ) -> bool:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or last_run_id not in self._runs:
                return False
            current = session.summary.last_run_id if session.summary else None
            if current != expected_last_run_id:
                return False
            session.summary = SessionSummaryRecord(session_id, summary, list(topics), last_run_id, now())
            return True

    # --- Agno's session verbs ---------------------------------------------------------------------
    def _owned(self, session_id: str, user_id: str | None) -> AgentSession | None:
        try:
            return self.session_get(session_id=session_id, user_id=user_id)
        except SessionOwnedByAnotherUser:
            return None

    def get_session(
        self,
        session_id: str,
        user_id: str | None = None,
        session_type: SessionType | str | None = SessionType.AGENT,
        deserialize: bool = True,
    ) -> AgentSession | dict[str, Any] | None:
        """The session with its runs and summary; None when there is none, it is another's, or
        `session_type` is not an agent's. `deserialize=False`: its `to_dict()`."""
        session = self._owned(session_id, user_id) if is_agent_session(session_type) else None
        if session is None:
            return None
        session.runs = self.session_runs(session_id=session_id)
        session.summary = self.session_summary_get(session_id=session_id)
        return session if deserialize else session.to_dict()

    def get_sessions(
        self,
        user_id: str | None = None,
        *,
        search: str | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        limit: int | None = None,
        page: int | None = None,
        session_type: SessionType | str | None = None,
        deserialize: bool = True,
        component_id: str | None = None,
        start_timestamp: int | None = None,
        end_timestamp: int | None = None,
    ) -> list[AgentSession] | list[dict[str, Any]]:
        if not is_agent_session(session_type):
            return []
        if component_id or start_timestamp is not None or end_timestamp is not None:
            every = self.get_sessions(user_id, search=search, sort_by=sort_by, sort_order=sort_order)
            assert isinstance(every, list)
            kept = narrowed_page(
                [s for s in every if isinstance(s, AgentSession)],
                component_id=component_id,
                start_timestamp=start_timestamp,
                end_timestamp=end_timestamp,
                limit=limit,
                page=page,
            )
            return kept if deserialize else [record.to_dict() for record in kept]
        wanted = (search or "").strip().lower()
        with self._lock:
            found = [
                (number, session)
                for number, session in enumerate(self._sessions.values())
                if (user_id is None or session.user_id == user_id)
                and (not wanted or self._mentions(session, wanted))
            ]
        key = SESSION_SORT_FIELDS.get(sort_by or "updated_at", "updated_at")
        found.sort(key=lambda item: (getattr(item[1], key), item[0]), reverse=(sort_order or "desc") != "asc")
        offset = (max(1, page) - 1) * limit if page and limit else 0
        end = None if limit is None else offset + max(0, limit)
        ids = [session.session_id for _, session in found[offset:end]]
        records = [record for sid in ids if (record := self.session_get(session_id=sid)) is not None]
        return records if deserialize else [record.to_dict() for record in records]

    def _mentions(self, session: StoredSession, wanted: str) -> bool:
        """Whether the session's title, id or messages match a search (as DjangoDb's does)."""
        if wanted in session.title.lower() or wanted == session.session_id.lower():
            return True
        runs = (r for r in self._runs.values() if r.session_id == session.session_id)
        return any(wanted in m.content.lower() for r in runs for m in r.messages)

    def upsert_session(
        self, session: AgentSession, deserialize: bool = True
    ) -> AgentSession | dict[str, Any] | None:
        user_id = session.user_id or DEFAULT_USER_ID
        stored = self._session_for(check_session_id(session.session_id), user_id, session.agent_name)
        if session.title:
            self.session_rename(session_id=stored.session_id, title=session.title)
        self.session_state_set(session_id=stored.session_id, state=session.session_state)
        return self.get_session(stored.session_id, deserialize=deserialize)

    def rename_session(
        self,
        session_id: str,
        session_name: str,
        user_id: str | None = None,
        session_type: SessionType | str | None = SessionType.AGENT,
        deserialize: bool = True,
    ) -> AgentSession | dict[str, Any] | None:
        if user_id is not None:
            self.session_get(session_id=session_id, user_id=user_id)  # raises for another's session
        if not is_agent_session(session_type):
            return None
        try:
            self.session_rename(session_id=session_id, title=session_name)
        except SessionNotFound:
            return None
        return self.get_session(session_id, deserialize=deserialize)

    def delete_session(self, session_id: str, user_id: str | None = None) -> bool:
        if self._owned(session_id, user_id) is None:
            return False
        return self.session_delete(session_id=session_id)

    def delete_sessions(self, session_ids: Iterable[str], user_id: str | None = None) -> int:
        return sum(self.delete_session(session_id, user_id) for session_id in session_ids)
