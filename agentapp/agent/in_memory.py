"""InMemoryDb: the Agent's storage over dicts, for a script's lifetime or a test, as Agno ships one.

It keeps the same rules as DjangoDb: a session belongs to one user, memories are looked up by id
*and* user, a duplicate memory is not stored twice, a stopped run stays cancelled, a summary fold
is saved only over the summary it started from. Here: runs and the context; memories in
`memory.in_memory_store`; sessions, their summaries and Agno's session verbs in `session.in_memory`.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agentapp.llm.types import Message, Usage

from .errors import InvalidInput, RunIdTaken, RunNotFound
from .memory.in_memory_store import InMemoryMemories, _Memory
from .memory.recall import NO_RECALL, RecallQuery
from .records import ContextData, EventRecord, PausedRun, RunHandle, UserMemory
from .session.ids import taken_run_id
from .session.in_memory import InMemorySessions, StoredRun, StoredSession, now

HISTORY_ROLES = ("user", "assistant", "tool")


def _replayable(message: Message) -> bool:
    """What a later run's history takes of a stored message (as DjangoDb's history query does)."""
    if message.from_history or message.role not in HISTORY_ROLES:
        return False
    return bool(message.content or message.role == "tool" or message.tool_calls)


class InMemoryDb(InMemoryMemories, InMemorySessions):
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sessions: dict[str, StoredSession] = {}
        self._runs: dict[str, StoredRun] = {}
        self._memories: dict[str, _Memory] = {}
        self._vectors: dict[str, tuple[str, list[float]]] = {}  # memory id: (embedder, vector)
        self._merged_from: dict[str, list[str]] = {}  # a merged memory's id: its sources' ids
        self.proposals: list[UserMemory] = []  # memories proposed for review, never recalled
        self._numbers = itertools.count(1)

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
        if not isinstance(message, str) or not message.strip():
            raise InvalidInput("message must not be empty")
        if not user_id or not session_id:
            raise InvalidInput("user_id and session_id must not be empty")
        with self._lock:
            if run_id is not None and run_id in self._runs:
                raise RunIdTaken(taken_run_id(run_id))
            self._session_for(session_id, user_id, agent_name)
            run = StoredRun(
                number=next(self._numbers),
                run_id=run_id or f"run_{uuid.uuid4().hex}",
                session_id=session_id,
                user_id=user_id,
                input=message,
                status="running",
                model_id=model_id,
                model_provider=model_provider,
                messages=[Message(role="user", content=message)],
            )
            self._runs[run.run_id] = run
            return self._handle(run)

    def run_input_set(self, *, run: RunHandle, input: str) -> None:
        if not isinstance(input, str) or not input.strip():
            raise InvalidInput("message must not be empty")
        with self._lock:
            stored = self._runs[run.run_id]
            stored.input = input
            stored.messages = [
                Message(role="user", content=input) if i == 0 and m.role == "user" else m
                for i, m in enumerate(stored.messages)
            ]

    def run_claim(self, *, run_id: str, model_id: str, model_provider: str) -> RunHandle | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.status != "pending":
                return None
            run.status, run.model_id, run.model_provider = "running", model_id, model_provider
            return self._handle(run)

    def _history(self, run: RunHandle, num_runs: int | None, num_messages: int | None) -> list[Message]:
        earlier = [
            r
            for r in self._runs.values()
            if r.session_id == run.session_id and r.status == "completed" and r.run_id != run.run_id
        ]
        earlier.sort(key=lambda r: r.number)

        def visible(r: StoredRun) -> list[Message]:
            return [m for m in r.messages if _replayable(m)]

        if num_messages is not None:
            messages = [m for r in earlier for m in visible(r)]
            return messages[-num_messages:] if num_messages > 0 else []
        if num_runs is not None:
            earlier = earlier[-num_runs:] if num_runs > 0 else []
        return [m for r in earlier for m in visible(r)]

    def context_load(
        self,
        *,
        run: RunHandle,
        num_history_runs: int | None,
        num_history_messages: int | None,
        memories: RecallQuery | None,
        with_summary: bool,
    ) -> ContextData:
        with self._lock:
            history: list[Message] = []
            if num_history_messages or num_history_runs is None or num_history_runs > 0:
                history = self._history(run, num_history_runs, num_history_messages)
            summary = self._sessions[run.session_id].summary if with_summary else None
            if summary is not None and not summary.summary:
                summary = None
        recall = self.memories_recall(run=run, query=memories) if memories is not None else NO_RECALL
        return ContextData(history=history, memories=recall.memories, summary=summary, recall=recall)

    async def acontext_load(self, **query: Any) -> ContextData:
        # On a thread: the recall may wait on an embedder (up to its cap).
        return await asyncio.to_thread(functools.partial(self.context_load, **query))

    def run_events_record(self, *, run: RunHandle, events: Sequence[EventRecord]) -> None:
        with self._lock:
            if run.run_id in self._runs:  # a memory scope outside any run has no timeline
                self._runs[run.run_id].events.extend(events)

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
        with self._lock:
            stored = self._runs[run.run_id]
            # History copies (store_history_messages) first, as DjangoDb hands them back.
            copies = [m for m in messages if m.from_history]
            stored.messages[:0] = copies
            stored.messages.extend(m for m in messages if not m.from_history)
            stored.events.extend(events)
            if stored.status != "cancelled":
                stored.status = status
            stored.content, stored.error, stored.usage = content, error, usage
            stored.duration_ms = max(0, int((now() - started_at).total_seconds() * 1000))
            stored.memories_used = list(memories_used)
            self._sessions[stored.session_id].updated_at = now()

    def run_handle(self, *, run_id: str) -> RunHandle:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                raise RunNotFound(f"run {run_id!r} not found")
            return self._handle(run)

    def run_resume(self, *, run_id: str, user_id: str | None, session_id: str | None = None) -> PausedRun:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or user_id not in (None, run.user_id) or session_id not in (None, run.session_id):
                raise RunNotFound(f"run {run_id!r} not found")
            if run.status != "paused":
                raise InvalidInput(f"run {run_id!r} is not paused (it is {run.status})")
            run.status = "running"
            own = [m for m in run.messages if not m.from_history]
            return PausedRun(self._handle(run), own[1:], run.usage)

    def run_user_messages(self, *, run: RunHandle) -> list[str]:
        return [run.input]

    def run_events(self, *, run_id: str) -> list[EventRecord]:
        """A run's timeline (for tests and scripts; not part of the storage protocol)."""
        with self._lock:
            return list(self._runs[run_id].events)

    def run_status(self, *, run_id: str) -> str:
        with self._lock:
            return self._runs[run_id].status
