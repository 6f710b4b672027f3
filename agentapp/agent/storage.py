"""The storage the Agent needs, and nothing else: `agentapp.db.DjangoDb` implements it on the ORM,
`agentapp.agent.in_memory.InMemoryDb` over dicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypedDict, runtime_checkable

from agentapp.llm.types import Message, Usage

from .recall import QueryVector, Recall, RecallQuery
from .records import (
    ContextData,
    EventRecord,
    RunHandle,
    RunRecord,
    SessionRecord,
    SessionSummaryRecord,
    SummaryInputs,
    UserMemory,
)


class ContextQuery(TypedDict):
    """What `context_load` is asked for one run (its keyword arguments)."""

    run: RunHandle
    num_history_runs: int | None
    num_history_messages: int | None
    memories: RecallQuery | None
    with_summary: bool


class AgentDb(Protocol):
    # --- a run ---------------------------------------------------------------------------
    def run_begin(
        self,
        *,
        user_id: str,
        session_id: str,
        agent_name: str,
        message: str,
        model_id: str,
        model_provider: str,
    ) -> RunHandle:
        """The run (running) and the user's message, stored together; the session is created when new.

        Raises SessionOwnedByAnotherUser for another user's `session_id`, InvalidInput for a message
        or id the storage refuses.
        """
        ...

    def run_claim(self, *, run_id: str, model_id: str, model_provider: str) -> RunHandle | None:
        """Move a run someone created as pending to running; None when another caller got it first."""
        ...

    def context_load(
        self,
        *,
        run: RunHandle,
        num_history_runs: int | None,
        num_history_messages: int | None,
        memories: RecallQuery | None,
        with_summary: bool,
    ) -> ContextData:
        """The run's history, summary and (with `memories`) the user's memories that the budget lets in:
        all of them when they fit, else the best by meaning, words and recency (see agent.recall)."""
        ...

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
        """Store the outcome, the new messages and `events` (the run's timeline so far) at once.

        A run someone stopped meanwhile stays cancelled.
        """
        ...

    def run_handle(self, *, run_id: str) -> RunHandle:
        """A finished run, for the work after it (raises RunNotFound)."""
        ...

    def run_user_messages(self, *, run: RunHandle) -> list[str]: ...

    # --- memories, always those of the run's user -----------------------------------------
    def memory_scope(self, *, user_id: str) -> RunHandle:
        """A handle standing for `user_id` outside any run, for the memory verbs below (a standalone
        MemoryManager, MemoryTools used outside a run): writes name no run, the timeline is skipped."""
        ...

    def memory_add(
        self,
        *,
        run: RunHandle,
        memory: str,
        topics: Sequence[str],
        actor: str,
        embedding: QueryVector | None = None,
    ) -> tuple[UserMemory, bool]:
        """The stored memory and whether it is new: an identical one, or (given the new text's
        `embedding`) one at least NEAR_DUPLICATE_SIMILARITY alike, is returned as it is."""
        ...

    def memories_recall(self, *, run: RunHandle, query: RecallQuery) -> Recall:
        """The run's user's memories best matching `query.text`, within its budget."""
        ...

    def memory_update(
        self, *, run: RunHandle, memory_id: str, memory: str | None, topics: Sequence[str] | None, actor: str
    ) -> UserMemory: ...

    def memory_delete(self, *, run: RunHandle, memory_id: str, actor: str) -> UserMemory: ...

    def user_memories(self, *, user_id: str, limit: int | None = None) -> list[UserMemory]:
        """The user's memories, most recently updated first."""
        ...

    # --- sessions ------------------------------------------------------------------------
    def session_get(self, *, session_id: str, user_id: str | None = None) -> SessionRecord | None: ...

    def chat_history(self, *, session_id: str, user_id: str | None = None) -> list[Message]: ...

    def session_summary_get(
        self, *, session_id: str, user_id: str | None = None
    ) -> SessionSummaryRecord | None: ...

    def session_first_message(self, *, session_id: str) -> str | None:
        """What the user said first in the session (what its title is made of)."""
        ...

    def user_sessions(self, *, user_id: str, limit: int) -> list[SessionRecord]:
        """The user's sessions, the most recently active first, at most `limit`."""
        ...

    def session_runs(self, *, session_id: str, user_id: str | None = None) -> list[RunRecord]:
        """The session's runs, oldest first, each with its messages ([] for an unknown session)."""
        ...

    def session_rename(self, *, session_id: str, title: str) -> None:
        """Name the session (InvalidInput for an empty or too long name)."""
        ...

    def session_delete(self, *, session_id: str, user_id: str | None = None) -> bool:
        """Delete the session with its runs (its user's memories stay); False when there was none."""
        ...

    def session_state_set(self, *, session_id: str, state: dict[str, Any]) -> None:
        """Replace the session's state (a JSON object; InvalidInput when it is not, or too big)."""
        ...

    def session_title_set(self, *, session_id: str, title: str) -> bool:
        """Give an untitled session a title; False when it has one (a person's rename wins)."""
        ...

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

    # --- memory optimisation ------------------------------------------------------------
    def memories_merge(
        self,
        *,
        user_id: str,
        memory_ids: Sequence[str],
        memory: str,
        topics: Sequence[str],
        actor: str,
        source_texts: Sequence[str] | None = None,
    ) -> UserMemory:
        """Replace two or more of the user's live memories with one, at once: the new memory names
        its sources, which are soft-deleted (a revert brings them back, where the storage keeps an
        audit trail). MemoryNotFound when one is not the user's live memory; InvalidInput for a
        memory text the storage refuses. Given `source_texts` (the texts the merge was planned from,
        in `memory_ids`' order), a source edited since is refused too, so no edit is merged unread.
        """
        ...


@runtime_checkable
class AsyncContextLoad(Protocol):
    """A storage may load the context its own way for async runs, which then wait seconds on the
    model (DjangoDb hands its pooled connection back meanwhile)."""

    async def acontext_load(
        self,
        *,
        run: RunHandle,
        num_history_runs: int | None,
        num_history_messages: int | None,
        memories: RecallQuery | None,
        with_summary: bool,
    ) -> ContextData: ...
