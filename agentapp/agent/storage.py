"""The storage the Agent needs; `agentapp.db.DjangoDb` implements it on the ORM."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from agentapp.llm.types import Message, Usage

from .records import ContextData, EventRecord, RunHandle, SessionRecord, SessionSummaryRecord, UserMemory
from .summary import SummaryInputs


class AgentDb(Protocol):
    def run_begin(
        self,
        *,
        user_id: str,
        session_id: str | None,
        agent_name: str,
        message: str,
        model_id: str,
        model_provider: str,
    ) -> RunHandle: ...

    def run_claim(self, *, run_id: str, model_id: str, model_provider: str) -> RunHandle | None: ...

    def context_load(
        self,
        *,
        run: RunHandle,
        num_history_runs: int | None,
        num_history_messages: int | None,
        with_memories: bool,
        memory_limit: int,
        with_summary: bool,
    ) -> ContextData: ...

    def idle(self) -> None:
        """An async run is about to wait on the model (seconds): release what need not be held meanwhile."""

    def run_events_record(self, *, run: RunHandle, events: Sequence[EventRecord]) -> None: ...

    def run_finish(
        self,
        *,
        run: RunHandle,
        status: str,
        content: str,
        messages: Sequence[Message],
        usage: Usage,
        started_at: datetime,
        first_token_at: datetime | None,
        error: str = "",
        memories_used: Sequence[str] = (),
        events: Sequence[EventRecord] = (),
    ) -> None:
        """Store the outcome, the new messages and `events` (the run's timeline so far) at once."""

    def memory_add(
        self, *, run: RunHandle, memory: str, topics: Sequence[str], actor: str
    ) -> tuple[UserMemory, bool]: ...

    def memory_update(
        self, *, run: RunHandle, memory_id: str, memory: str | None, topics: Sequence[str] | None, actor: str
    ) -> UserMemory: ...

    def memory_delete(self, *, run: RunHandle, memory_id: str, actor: str) -> UserMemory: ...

    def user_memories(self, *, user_id: str, limit: int | None = None) -> list[UserMemory]: ...

    def session_get(self, *, session_id: str, user_id: str | None = None) -> SessionRecord | None: ...

    def chat_history(self, *, session_id: str, user_id: str | None = None) -> list[Message]: ...

    def session_summary_get(
        self, *, session_id: str, user_id: str | None = None
    ) -> SessionSummaryRecord | None: ...

    def run_user_messages(self, *, run: RunHandle) -> list[str]: ...

    def run_handle(self, *, run_id: str) -> RunHandle: ...

    def summary_inputs(self, *, session_id: str, max_runs: int) -> SummaryInputs | None:
        """The session's summary and its completed runs after the summary's last run, oldest first.

        At most `max_runs` runs, each with its input and final reply truncated; None when the
        session does not exist.
        """
        ...

    def summary_save(
        self,
        *,
        session_id: str,
        summary: str,
        topics: Sequence[str],
        last_run_id: str,
        expected_last_run_id: str | None,
    ) -> bool:
        """Store a fold only if the summary still covers `expected_last_run_id` (one conditional write).

        False when another fold got there first: the caller's fold is dropped.
        """
        ...

    def followups_schedule(self, *, run: RunHandle, jobs: Sequence[str]) -> set[str]:
        """Hand follow-up jobs ("memory", "summary") to background workers; returns those it took."""
        ...
