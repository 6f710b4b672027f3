"""What an Agent reads and names of its sessions (Agno's `get_session`, `get_chat_history`, ...), each
with its async twin written once (`aget_session = async_twin(get_session)`)."""

from __future__ import annotations

from typing import Any

from agentapp.llm.types import Message, Model

from ..agent_session import AgentSession
from ..events import RunOutput
from ..metrics import RunMetrics, model_details
from ..records import RunRecord, SessionMetrics, SessionSummaryRecord
from ..requirements import pending_tools, requirements_of, unanswered_calls
from ..run_context import merged_state
from ..settings import AgentSettings
from ..storage import AgentDb
from ..twins import async_twin
from . import titles


class SessionReads:
    """A part of `Agent`: these read its `db` and default to its session (`session_id`)."""

    db: AgentDb
    settings: AgentSettings
    session_id: str | None
    model: Model
    title_model: Model | None

    def _current_session(self, session_id: str | None = None) -> str:
        target = session_id or self.session_id
        if not target:
            raise ValueError("no session yet: pass session_id, or run the Agent once")
        return target

    def _runs_of(self, session_id: str | None, user_id: str | None) -> list[RunRecord]:
        return self.db.session_runs(session_id=self._current_session(session_id), user_id=user_id)

    # --- the session and its runs ------------------------------------------------------------------
    def get_session(self, session_id: str | None = None, user_id: str | None = None) -> AgentSession | None:
        """The session (the Agent's by default) with its runs (`runs`) and summary; None when there is
        none. Another person's session is refused (SessionOwnedByAnotherUser)."""
        target = session_id or self.session_id
        if not target:
            return None
        session = self.db.session_get(session_id=target, user_id=user_id)
        if session is None:
            return None
        session.runs = self.db.session_runs(session_id=target, user_id=user_id)
        session.summary = self.db.session_summary_get(session_id=target, user_id=user_id)
        return session

    def get_chat_history(
        self, session_id: str | None = None, user_id: str | None = None, *, last_n_runs: int | None = None
    ) -> list[Message]:
        """The user's and the assistant's messages of the session (of its last `last_n_runs` runs),
        along the thread shown: of a turn edited or regenerated, the version chosen."""
        runs = [r for r in self._runs_of(session_id, user_id) if r.shown]
        if last_n_runs is not None:
            runs = runs[-last_n_runs:] if last_n_runs > 0 else []
        return [
            m
            for r in runs
            for m in r.messages
            if m.role in ("user", "assistant") and m.content and not m.from_history
        ]

    def get_session_messages(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> list[Message]:
        """Every message of the thread shown, tool calls and results included, oldest first (without
        the copies of earlier history that runs stored with store_history_messages)."""
        runs = self._runs_of(session_id, user_id)
        return [m for r in runs if r.shown for m in r.messages if not m.from_history]

    def get_run_output(
        self, run_id: str, session_id: str | None = None, user_id: str | None = None
    ) -> RunOutput | None:
        run = next((r for r in self._runs_of(session_id, user_id) if r.run_id == run_id), None)
        return self._stored_output(run) if run is not None else None

    def get_last_run_output(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> RunOutput | None:
        runs = self._runs_of(session_id, user_id)
        return self._stored_output(runs[-1]) if runs else None

    def get_session_metrics(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> SessionMetrics:
        runs = self._runs_of(session_id, user_id)
        return SessionMetrics(
            runs=len(runs),
            input_tokens=sum(r.input_tokens for r in runs),
            output_tokens=sum(r.output_tokens for r in runs),
            total_tokens=sum(r.total_tokens for r in runs),
            duration_ms=sum(r.duration_ms for r in runs),
        )

    def get_session_summary(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> SessionSummaryRecord | None:
        return self.db.session_summary_get(session_id=self._current_session(session_id), user_id=user_id)

    def delete_session(self, session_id: str, user_id: str | None = None) -> bool:
        """Delete the session and its runs (the person's memories stay); False when there was none."""
        deleted = self.db.session_delete(session_id=session_id, user_id=user_id)
        if deleted and session_id == self.session_id:
            self.session_id = None
        return deleted

    # --- its name and state ------------------------------------------------------------------------
    def get_session_name(self, session_id: str | None = None) -> str:
        session = self.db.session_get(session_id=self._current_session(session_id))
        return session.title if session is not None else ""

    def set_session_name(
        self, session_id: str | None = None, session_name: str | None = None, *, autogenerate: bool = False
    ) -> AgentSession:
        """Name the session and return it, as Agno does; with autogenerate, a few words from its first
        message (the `title_model`'s, else the Agent's model's)."""
        target = self._current_session(session_id)
        if autogenerate:
            first = self.db.session_first_message(session_id=target) or ""
            session_name = titles.suggest_title(first, model=self.title_model or self.model) if first else ""
        if not session_name:
            raise ValueError("give session_name, or autogenerate=True for a session with a message")
        self.db.session_rename(session_id=target, title=session_name)
        session = self.get_session(target)
        assert session is not None  # renamed just now
        return session

    def rename(self, name: str, session_id: str | None = None) -> None:
        """Name the session (Agno's `rename`)."""
        self.set_session_name(session_id, name)

    def get_session_state(self, session_id: str | None = None) -> dict[str, Any]:
        """The stored state of `session_id` (the Agent's session by default); {} for none yet."""
        session = self.db.session_get(session_id=self._current_session(session_id))
        return dict(session.session_state) if session is not None else {}

    def update_session_state(
        self, session_state_updates: dict[str, Any], session_id: str | None = None
    ) -> dict[str, Any]:
        """Merge `session_state_updates` into the stored state of `session_id` (the Agent's session by
        default); returns the state now stored."""
        target = self._current_session(session_id)
        state = merged_state(self.get_session_state(target), session_state_updates)
        self.db.session_state_set(session_id=target, state=state)
        return state

    def _stored_output(self, run: RunRecord) -> RunOutput:
        """A stored run as the RunOutput it returned (a paused one: the calls it waits on, to answer)."""
        waiting = (
            pending_tools(unanswered_calls(run.messages), self.settings.tools)
            if run.status == "paused"
            else []
        )
        return RunOutput(
            tools=waiting,
            requirements=requirements_of(waiting) if waiting else None,
            content=run.content,
            run_id=run.run_id,
            session_id=run.session_id,
            user_id=run.user_id,
            status=run.status,
            messages=list(run.messages),
            metrics=RunMetrics(
                input_tokens=run.input_tokens,
                output_tokens=run.output_tokens,
                total_tokens=run.total_tokens,
                duration_ms=run.duration_ms,
                details=model_details(
                    model_id=run.model,
                    provider=run.model_provider,
                    input_tokens=run.input_tokens,
                    output_tokens=run.output_tokens,
                    total_tokens=run.total_tokens,
                )
                if run.model
                else None,
            ),
            error=run.error or None,
            agent_id=self.settings.id,
            agent_name=self.settings.name,
            model=run.model,
            model_provider=run.model_provider,
            created_at=int(run.created_at.timestamp()) if run.created_at else 0,
            input=run.input,
        )

    # --- the async twins (the storage's work on a thread) --------------------------------------------
    aget_session = async_twin(get_session)
    aget_chat_history = async_twin(get_chat_history)
    aget_session_messages = async_twin(get_session_messages)
    aget_run_output = async_twin(get_run_output)
    aget_last_run_output = async_twin(get_last_run_output)
    aget_session_metrics = async_twin(get_session_metrics)
    aget_session_summary = async_twin(get_session_summary)
    adelete_session = async_twin(delete_session)
    aget_session_name = async_twin(get_session_name)
    aset_session_name = async_twin(set_session_name)
    arename = async_twin(rename)
    aget_session_state = async_twin(get_session_state)
    aupdate_session_state = async_twin(update_session_state)
