"""InMemoryDb: the Agent's storage over dicts, for a script's lifetime or a test, as Agno ships one.

It keeps the same rules as DjangoDb: a session belongs to one user, memories are looked up by id
*and* user, a duplicate memory is not stored twice, a stopped run stays cancelled, a summary fold
is saved only over the summary it started from. Here: runs, the context and memories; sessions,
their summaries and Agno's session verbs in `session.in_memory`.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentapp.llm.types import Message, Usage

from .errors import InvalidInput, MemoryNotFound, RunNotFound
from .memory.in_memory_search import candidates_in_memory, nearest_in_memory
from .memory.query_embedding import QueryVector
from .memory.recall import (
    NEAR_DUPLICATE_SIMILARITY,
    NO_RECALL,
    Candidate,
    Recall,
    RecallQuery,
    recall_memories,
)
from .memory.verbs import MemoryVerbs
from .records import (
    ContextData,
    EventRecord,
    RunHandle,
    UserMemory,
)
from .session.in_memory import InMemorySessions, StoredRun, StoredSession, now

HISTORY_ROLES = ("user", "assistant", "tool")


def _replayable(message: Message) -> bool:
    """What a later run's history takes of a stored message (as DjangoDb's history query does)."""
    if message.from_history or message.role not in HISTORY_ROLES:
        return False
    return bool(message.content or message.role == "tool" or message.tool_calls)


def _normalized(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass
class _Memory:
    memory_id: str
    user_id: str
    memory: str
    topics: list[str]
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    deleted: bool = False
    source_run_id: str | None = None

    def record(self) -> UserMemory:
        return UserMemory(
            memory_id=self.memory_id,
            memory=self.memory,
            topics=list(self.topics),
            user_id=self.user_id,
            created_at=self.created_at,
            updated_at=self.updated_at,
            source_run_id=self.source_run_id,
        )


def _topics(topics: Sequence[str] | None) -> list[str]:
    cleaned: list[str] = []
    for topic in topics or ():
        topic = " ".join(str(topic).lower().split())
        if topic and topic not in cleaned:
            cleaned.append(topic)
    return cleaned


class InMemoryDb(MemoryVerbs, InMemorySessions):
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sessions: dict[str, StoredSession] = {}
        self._runs: dict[str, StoredRun] = {}
        self._memories: dict[str, _Memory] = {}
        self._vectors: dict[str, tuple[str, list[float]]] = {}  # memory id: (embedder, vector)
        self._merged_from: dict[str, list[str]] = {}  # a merged memory's id: its sources' ids
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
    ) -> RunHandle:
        if not isinstance(message, str) or not message.strip():
            raise InvalidInput("message must not be empty")
        if not user_id or not session_id:
            raise InvalidInput("user_id and session_id must not be empty")
        with self._lock:
            self._session_for(session_id, user_id, agent_name)
            run = StoredRun(
                number=next(self._numbers),
                run_id=f"run_{uuid.uuid4().hex}",
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

    def memories_recall(self, *, run: RunHandle, query: RecallQuery) -> Recall:
        every = self.user_memories(user_id=run.user_id)

        def candidates(vector: QueryVector | None, per_signal: int, total: int) -> list[Candidate]:
            with self._lock:
                vectors = dict(self._vectors)
            return candidates_in_memory(every, text=query.text, vector=vector, vectors=vectors)

        return recall_memories(query, newest=lambda n: (every[:n], len(every)), candidates=candidates)

    def run_events_record(self, *, run: RunHandle, events: Sequence[EventRecord]) -> None:
        with self._lock:
            if run.run_id in self._runs:  # a memory scope outside any run has no timeline
                self._runs[run.run_id].events.extend(events)

    # --- the reads behind Agno's memory verbs (memory.verbs) ------------------------------
    def memories_page(
        self,
        *,
        user_id: str | None,
        topics: Sequence[str] = (),
        search: str = "",
        sort_by: str | None = None,
        sort_order: str = "asc",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[UserMemory]:
        wanted_topics = _topics(topics)
        words = [w for w in _normalized(search).split() if w]
        with self._lock:
            live = [m for m in self._memories.values() if not m.deleted]
        found = [
            m
            for m in live
            if (user_id is None or m.user_id == user_id)
            and all(t in m.topics for t in wanted_topics)
            and all(any(have.startswith(w) for have in _normalized(m.memory).split()) for w in words)
        ]
        field_name = sort_by if sort_by in ("created_at", "updated_at") else "created_at"
        found.sort(key=lambda m: getattr(m, field_name), reverse=sort_order.lower() == "desc")
        end = None if limit is None else offset + max(0, limit)
        return [m.record() for m in found[max(0, offset) : end]]

    def memory_topics_all(self, *, user_id: str | None = None) -> list[str]:
        return sorted({t for m in self.memories_page(user_id=user_id) for t in m.topics})

    def memory_stats(self, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        people: dict[str, dict[str, Any]] = {}
        for m in self.memories_page(user_id=None):
            row = people.setdefault(
                m.user_id or "", {"user_id": m.user_id, "total_memories": 0, "last_memory_updated_at": None}
            )
            row["total_memories"] += 1
            if row["last_memory_updated_at"] is None or (
                m.updated_at and m.updated_at > row["last_memory_updated_at"]
            ):
                row["last_memory_updated_at"] = m.updated_at
        rows = sorted(people.values(), key=lambda r: r["last_memory_updated_at"], reverse=True)
        end = None if limit is None else offset + max(0, limit)
        return rows[max(0, offset) : end], len(rows)

    def _find(self, memory_id: str) -> UserMemory | None:
        with self._lock:
            stored = self._memories.get(memory_id)
            return stored.record() if stored is not None and not stored.deleted else None

    def memory_scope(self, *, user_id: str) -> RunHandle:
        """A handle for writing `user_id`'s memories outside any run."""
        return RunHandle(run_id="", session_id="", user_id=user_id, input="")

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

    def run_user_messages(self, *, run: RunHandle) -> list[str]:
        return [run.input]

    def run_events(self, *, run_id: str) -> list[EventRecord]:
        """A run's timeline (for tests and scripts; not part of the storage protocol)."""
        with self._lock:
            return list(self._runs[run_id].events)

    def run_status(self, *, run_id: str) -> str:
        with self._lock:
            return self._runs[run_id].status

    # --- memories ------------------------------------------------------------------------
    def _own_memory(self, run: RunHandle, memory_id: str) -> _Memory:
        memory = self._memories.get(memory_id)
        if memory is None or memory.user_id != run.user_id or memory.deleted:
            raise MemoryNotFound(f"memory {memory_id!r} not found")
        return memory

    def memory_add(
        self,
        *,
        run: RunHandle,
        memory: str,
        topics: Sequence[str],
        actor: str,
        embedding: QueryVector | None = None,
    ) -> tuple[UserMemory, bool]:
        text = " ".join((memory or "").split())
        if not text:
            raise InvalidInput("memory text must not be empty")
        with self._lock:
            for existing in self._memories.values():
                mine = existing.user_id == run.user_id and not existing.deleted
                if mine and _normalized(existing.memory) == _normalized(text):
                    return existing.record(), False
            if embedding is not None and embedding.vector is not None:
                live = {
                    mid: vector
                    for mid, vector in self._vectors.items()
                    if self._memories[mid].user_id == run.user_id and not self._memories[mid].deleted
                }
                nearest = nearest_in_memory(embedding, live)
                if nearest is not None and nearest[1] >= NEAR_DUPLICATE_SIMILARITY:
                    return self._memories[nearest[0]].record(), False
            stored = _Memory(
                f"mem_{uuid.uuid4().hex[:16]}",
                run.user_id,
                text,
                _topics(topics),
                source_run_id=run.run_id or None,
            )
            self._memories[stored.memory_id] = stored
            if embedding is not None and embedding.vector is not None:
                self._vectors[stored.memory_id] = (embedding.model, list(embedding.vector))
            return stored.record(), True

    def memory_update(
        self, *, run: RunHandle, memory_id: str, memory: str | None, topics: Sequence[str] | None, actor: str
    ) -> UserMemory:
        with self._lock:
            stored = self._own_memory(run, memory_id)
            if memory is not None:
                text = " ".join(memory.split())
                if not text:
                    raise InvalidInput("memory text must not be empty")
                if text != stored.memory:
                    self._vectors.pop(memory_id, None)  # made of the old text
                stored.memory = text
            if topics is not None:
                stored.topics = _topics(topics)
            stored.updated_at = now()
            return stored.record()

    def memory_delete(self, *, run: RunHandle, memory_id: str, actor: str) -> UserMemory:
        with self._lock:
            stored = self._own_memory(run, memory_id)
            stored.deleted = True
            stored.updated_at = now()
            return stored.record()

    def user_memories(self, *, user_id: str, limit: int | None = None) -> list[UserMemory]:
        with self._lock:
            mine = [m for m in self._memories.values() if m.user_id == user_id and not m.deleted]
        mine.sort(key=lambda m: m.updated_at, reverse=True)
        if limit is not None:
            mine = mine[: max(0, limit)]
        return [m.record() for m in mine]

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
        text = " ".join((memory or "").split())
        if not text:
            raise InvalidInput("memory text must not be empty")
        ids = list(dict.fromkeys(memory_ids))
        if len(ids) < 2:
            raise InvalidInput("a merge needs at least two memories")
        expected = dict(zip(memory_ids, source_texts, strict=True)) if source_texts is not None else {}
        with self._lock:
            sources: list[_Memory] = []
            for memory_id in ids:
                source = self._memories.get(memory_id)
                if source is None or source.user_id != user_id or source.deleted:
                    raise MemoryNotFound(f"memory {memory_id!r} not found")
                if memory_id in expected and _normalized(expected[memory_id]) != _normalized(source.memory):
                    raise InvalidInput(f"memory {memory_id!r} changed since the merge was planned")
                sources.append(source)
            others = (m for m in self._memories.values() if m.user_id == user_id and not m.deleted)
            if any(m.memory_id not in ids and _normalized(m.memory) == _normalized(text) for m in others):
                raise InvalidInput("an identical memory already exists")
            for source in sources:
                source.deleted = True
                source.updated_at = now()
                self._vectors.pop(source.memory_id, None)
            merged = _Memory(f"mem_{uuid.uuid4().hex[:16]}", user_id, text, _topics(topics))
            self._memories[merged.memory_id] = merged
            self._merged_from[merged.memory_id] = ids
            return merged.record()

    def memory_merged_from(self, *, memory_id: str) -> list[str]:
        """The ids of the memories a merge replaced with this one ([] for one no merge made)."""
        with self._lock:
            return list(self._merged_from.get(memory_id, ()))
