"""DjangoDb's session verbs: a session read for its owner (another person's is refused), its
history, runs and summary; renamed, titled, its state, deleted; and the summary's inputs and
fold, stored exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User

from agentapp.agent.agent_session import AgentSession as SessionRecord
from agentapp.agent.records import (
    Message,
    RunRecord,
    SessionSummaryRecord,
    SummaryInputs,
    SummaryTurn,
)
from agentapp.agent.session.summaries import MAX_TURN_CHARS
from agentapp.errors import InvalidInput, SessionNotFound, SessionOwnedByAnotherUser
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.models import AgentSession
from sessions_app.versions import places

from .records import DjangoRunHandle, message_of, session_record, summary_record


class SessionStorage:
    """A mixin of DjangoDb (which sets `acting_user`)."""

    acting_user: User | None

    def _session(self, session_id: str, user_id: str | None) -> AgentSession | None:
        session = session_selectors.session_get(session_id=session_id)
        if session is None:
            return None
        if user_id is not None and session.user.get_username() != user_id:
            raise SessionOwnedByAnotherUser(f"session_id {session_id!r} belongs to another user")
        return session

    def session_get(self, *, session_id: str, user_id: str | None = None) -> SessionRecord | None:
        session = self._session(session_id, user_id)
        if session is None:
            return None
        return session_record(session, session.user.get_username())

    def chat_history(self, *, session_id: str, user_id: str | None = None) -> list[Message]:
        session = self._session(session_id, user_id)
        if session is None:
            return []
        return [message_of(row) for row in session_selectors.session_message_rows(session=session)]

    def session_summary_get(
        self, *, session_id: str, user_id: str | None = None
    ) -> SessionSummaryRecord | None:
        session = self._session(session_id, user_id)
        if session is None:
            return None
        row = session_selectors.session_summary_get(session_pk=session.pk)
        return summary_record(row, session_id) if row else None

    def session_first_message(self, *, session_id: str) -> str | None:
        return session_selectors.session_first_input(session_id=session_id)

    def session_title_set(self, *, session_id: str, title: str) -> bool:
        return session_services.session_title_set_if_empty(session_id=session_id, title=title)

    def user_sessions(self, *, user_id: str, limit: int) -> list[SessionRecord]:
        sessions = session_selectors.sessions_of_username(username=user_id, limit=limit)
        return [session_record(session, user_id) for session in sessions]

    def session_runs(self, *, session_id: str, user_id: str | None = None) -> list[RunRecord]:
        session = self._session(session_id, user_id)
        if session is None:
            return []
        username = session.user.get_username()
        runs = session_selectors.session_runs_with_messages(session=session)
        shape = places(run for run, _ in runs)
        return [
            RunRecord(
                run_id=run.run_id,
                session_id=session_id,
                user_id=username,
                status=run.status,
                input=run.input,
                content=run.content,
                error=run.error,
                model=run.model_id,
                model_provider=run.model_provider,
                created_at=run.created_at,
                input_tokens=run.input_tokens,
                output_tokens=run.output_tokens,
                total_tokens=run.total_tokens,
                duration_ms=run.duration_ms or 0,
                messages=[message_of(row) for row in rows],
                parent_run_id=shape[run.pk].parent_run_id,
                shown=shape[run.pk].shown,
            )
            for run, rows in runs
        ]

    def session_rename(self, *, session_id: str, title: str) -> None:
        session = self._session(session_id, None)
        if session is None:
            raise SessionNotFound(f"session {session_id!r} not found")
        session_services.session_rename(session=session, title=title)

    def session_delete(self, *, session_id: str, user_id: str | None = None) -> bool:
        session = self._session(session_id, user_id)
        if session is None:
            return False
        session_services.session_delete(session=session, by=self.acting_user)
        return True

    def session_state_set(self, *, session_id: str, state: dict[str, Any]) -> None:
        session_services.session_state_set(session_id=session_id, state=state)

    def session_fork(self, *, session_id: str, user_id: str | None, new_session_id: str) -> None:
        source = self._session(session_id, user_id)
        if source is None or not session_selectors.session_has_settled_runs(session=source):
            raise InvalidInput("Source session has no runs to fork.")
        session_services.session_fork(source=source, session_id=new_session_id)

    def summary_inputs(self, *, session_id: str, max_runs: int) -> SummaryInputs | None:
        session = session_selectors.session_get(session_id=session_id)
        if session is None or session.temporary:  # a temporary chat gets no summary: nothing to fold
            return None
        row = session_selectors.session_summary_get(session_pk=session.pk)
        runs, on_path = session_selectors.summary_runs_pending(
            session_pk=session.pk,
            after_run_pk=row.last_run_id if row else None,
            limit=max_runs + 1,
            max_chars=MAX_TURN_CHARS,
        )
        username = session.user.get_username()
        turns = [
            SummaryTurn(
                run=DjangoRunHandle(
                    run_id=run.run_id,
                    session_id=session_id,
                    user_id=username,
                    input=run.input_head,
                    run_pk=run.pk,
                    session_pk=session.pk,
                    user_pk=session.user_id,
                ),
                input=run.input_head,
                content=run.content_head,
            )
            for run in runs[:max_runs]
        ]
        record = summary_record(row, session_id) if row else None
        if record is not None and not on_path:  # a summary of another version: folded again
            return SummaryInputs(
                summary=None, turns=turns, more=len(runs) > max_runs, replaces=record.last_run_id
            )
        return SummaryInputs(summary=record, turns=turns, more=len(runs) > max_runs)

    def summary_save(
        self,
        *,
        session_id: str,
        summary: str,
        topics: Sequence[str],
        last_run_id: str,
        expected_last_run_id: str | None,
    ) -> bool:
        return session_services.session_summary_save(
            session_id=session_id,
            text=summary,
            topics=topics,
            last_run_id=last_run_id,
            expected_last_run_id=expected_last_run_id,
        )
