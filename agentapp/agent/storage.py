"""The storage the Agent needs, and nothing else: `agentapp.db.DjangoDb` implements it on the ORM,
`agentapp.agent.in_memory.InMemoryDb` over dicts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypedDict

from agentapp.llm.types import Message, Usage

from .agent_session import AgentSession
from .memory.recall import RecallQuery
from .memory.storage import MemoryStorage, SortOrder
from .records import (
    ContextData,
    EventRecord,
    PausedRun,
    RunHandle,
    RunRecord,
    SessionSummaryRecord,
    SummaryInputs,
)

# A session's type, Agno's `SessionType` (agentapp.agent.db_types) or its value; None: any.
SessionKind = str | None


class ContextQuery(TypedDict):
    """What `context_load` is asked for one run (its keyword arguments)."""

    run: RunHandle
    num_history_runs: int | None
    num_history_messages: int | None
    memories: RecallQuery | None
    with_summary: bool


class AgentDb(MemoryStorage, Protocol):
    """Every verb the Agent (and its memory and session sides) uses, on every storage: the Agent never
    asks which storage it has."""

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
        run_id: str | None = None,
    ) -> RunHandle:
        """The run (running) and the user's message, stored together; the session is created when new.
        `run_id` is the caller's choice (checked by the caller), else the storage makes one.

        Raises SessionOwnedByAnotherUser for another user's `session_id`, InvalidInput for a message
        or id the storage refuses, RunIdTaken for a `run_id` a stored run already has.
        """
        ...

    def run_input_set(self, *, run: RunHandle, input: str) -> None:
        """The run's message, changed before the model heard it (a pre-hook's masking): the run and
        its stored user message say the changed text. InvalidInput for text the storage refuses."""
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
        all of them when they fit, else the best by meaning, words and recency (see memory.recall)."""
        ...

    async def acontext_load(
        self,
        *,
        run: RunHandle,
        num_history_runs: int | None,
        num_history_messages: int | None,
        memories: RecallQuery | None,
        with_summary: bool,
    ) -> ContextData:
        """`context_load` for async runs, which then wait seconds on the model (DjangoDb hands its
        pooled connection back meanwhile; InMemoryDb loads on a thread)."""
        ...

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

    def run_resume(self, *, run_id: str, user_id: str | None, session_id: str | None = None) -> PausedRun:
        """A paused run of `user_id` (None: whoever's it is) moved back to running, at most once, with
        its stored messages after the user's. RunNotFound when there is none, it is another person's
        or not of `session_id`; InvalidInput when it is not paused (a second `continue_run` too)."""
        ...

    # --- sessions ------------------------------------------------------------------------
    def session_get(self, *, session_id: str, user_id: str | None = None) -> AgentSession | None: ...

    def chat_history(self, *, session_id: str, user_id: str | None = None) -> list[Message]: ...

    def session_summary_get(
        self, *, session_id: str, user_id: str | None = None
    ) -> SessionSummaryRecord | None: ...

    def session_first_message(self, *, session_id: str) -> str | None:
        """What the user said first in the session (what its title is made of)."""
        ...

    def session_fork(self, *, session_id: str, user_id: str | None, new_session_id: str) -> None:
        """`session_id` copied as `new_session_id` for the same person: its settled runs (new run ids)
        with their messages, its state, name and summary. InvalidInput when it has no such run (or
        does not exist); SessionOwnedByAnotherUser when it is another person's."""
        ...

    def user_sessions(self, *, user_id: str, limit: int) -> list[AgentSession]:
        """The user's sessions, the most recently active first, at most `limit`."""
        ...

    def session_runs(self, *, session_id: str, user_id: str | None = None) -> list[RunRecord]:
        """The session's runs, oldest first, each with its messages ([] for an unknown session)."""
        ...

    def session_rename(self, *, session_id: str, title: str) -> None:
        """Name the session (an empty name leaves it untitled; InvalidInput for one over 200 characters)."""
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

    # --- Agno's session verbs (the REST API's ownership rule: naming a user, another person's
    # session is not found by reads and deletes, refused by writes) ------------------------------
    def get_session(
        self,
        session_id: str,
        user_id: str | None = None,
        session_type: SessionKind = "agent",
        deserialize: bool = True,
    ) -> AgentSession | dict[str, Any] | None:
        """The session with its runs (`runs`) and summary; None when there is none (or it is another's,
        or `session_type` is a team's or a workflow's). `deserialize=False`: its `to_dict()`."""
        ...

    def get_sessions(
        self,
        user_id: str | None = None,
        *,
        search: str | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        limit: int | None = None,
        page: int | None = None,
        session_type: SessionKind = None,
        deserialize: bool = True,
        component_id: str | None = None,
        start_timestamp: int | None = None,
        end_timestamp: int | None = None,
    ) -> list[AgentSession] | list[dict[str, Any]]:
        """Sessions (runs not loaded): one person's, or everyone's, `search` matching titles, ids and
        messages; the most recently active first unless `sort_by` ("created_at", "updated_at",
        "session_name") and `sort_order` say otherwise; `page` (from 1) of `limit`. `component_id`
        (the agent's name) and `start_timestamp` / `end_timestamp` (when it began, epoch seconds)
        narrow them."""
        ...

    def upsert_session(
        self, session: AgentSession, deserialize: bool = True
    ) -> AgentSession | dict[str, Any] | None:
        """Create the session for `session.user_id` (none: "default") when new, then set its name and
        state as given (an empty name leaves it untitled); another person's session id is refused."""
        ...

    def rename_session(
        self,
        session_id: str,
        session_name: str,
        user_id: str | None = None,
        session_type: SessionKind = "agent",
        deserialize: bool = True,
    ) -> AgentSession | dict[str, Any] | None:
        """The renamed session; None when there is none. Another person's is refused."""
        ...

    def delete_session(self, session_id: str, user_id: str | None = None) -> bool:
        """Delete the session and its runs (the person's memories stay); False when there was none."""
        ...

    def delete_sessions(self, session_ids: Iterable[str], user_id: str | None = None) -> int: ...
