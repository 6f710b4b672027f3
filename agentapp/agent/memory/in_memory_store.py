"""InMemoryDb's memories, with the same rules as DjangoDb's: looked up by id *and* person, a duplicate
not stored twice, a fact that changed closed and replaced (superseded) rather than overwritten."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidInput, MemoryNotFound
from ..records import RunHandle, UserMemory
from .in_memory_search import candidates_in_memory, nearest_in_memory
from .own_name import for_person
from .query_embedding import QueryVector
from .recall import NEAR_DUPLICATE_SIMILARITY, Candidate, Recall, RecallQuery, recall_memories
from .storage import ProposedChange
from .verbs import MemoryVerbs


def now() -> datetime:
    return datetime.now(UTC)


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
    valid_from: datetime = field(default_factory=now)
    valid_to: datetime | None = None
    superseded_by: str | None = None
    input: str | None = None  # Agno's: what was said that taught it
    agent_id: str | None = None  # Agno's: the agent that wrote it

    @property
    def current(self) -> bool:
        return not self.deleted and self.valid_to is None

    def true_at(self, when: datetime) -> bool:
        return (
            not self.deleted and self.valid_from <= when and (self.valid_to is None or self.valid_to > when)
        )

    def record(self) -> UserMemory:
        return UserMemory(
            memory_id=self.memory_id,
            memory=self.memory,
            topics=list(self.topics),
            user_id=self.user_id,
            created_at=self.created_at,
            updated_at=self.updated_at,
            source_run_id=self.source_run_id,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            superseded_by=self.superseded_by,
            input=self.input,
            agent_id=self.agent_id,
        )


def _topics(topics: Sequence[str] | None) -> list[str]:
    cleaned: list[str] = []
    for topic in topics or ():
        topic = " ".join(str(topic).lower().split())
        if topic and topic not in cleaned:
            cleaned.append(topic)
    return cleaned


class InMemoryMemories(MemoryVerbs):
    """InMemoryDb's memories: the same rules as DjangoDb's, over its dicts and lock."""

    _lock: threading.RLock
    _memories: dict[str, _Memory]
    _vectors: dict[str, tuple[str, list[float]]]
    _merged_from: dict[str, list[str]]
    proposals: list[UserMemory]

    def memories_recall(self, *, run: RunHandle, query: RecallQuery) -> Recall:
        with self._lock:
            mine = [
                m
                for m in self._memories.values()
                if m.user_id == run.user_id and (m.current or (query.include_past and not m.deleted))
            ]
        every = [m.record() for m in sorted(mine, key=lambda m: m.updated_at, reverse=True)]

        def candidates(vector: QueryVector | None, per_signal: int, total: int) -> list[Candidate]:
            with self._lock:
                vectors = dict(self._vectors)
            return candidates_in_memory(every, text=query.text, vector=vector, vectors=vectors)

        return recall_memories(
            dataclasses.replace(query, embed=for_person(query.embed, run.user_id)),
            newest=lambda n: (every[:n], len(every)),
            candidates=candidates,
        )

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
        as_of: datetime | None = None,
        include_superseded: bool = False,
    ) -> list[UserMemory]:
        wanted_topics = _topics(topics)
        words = [w for w in _normalized(search).split() if w]
        with self._lock:
            if as_of is not None:
                live = [m for m in self._memories.values() if m.true_at(as_of)]
            else:
                live = [
                    m for m in self._memories.values() if m.current or (include_superseded and not m.deleted)
                ]
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

    # --- memories ------------------------------------------------------------------------
    def _own_memory(self, run: RunHandle, memory_id: str) -> _Memory:
        memory = self._memories.get(memory_id)
        if memory is None or memory.user_id != run.user_id or memory.deleted:
            raise MemoryNotFound(f"memory {memory_id!r} not found")
        return memory

    def memory_propose(
        self,
        *,
        run: RunHandle,
        memory: str,
        topics: Sequence[str],
        actor: str,
        change: ProposedChange = "create",
        target: str | None = None,
    ) -> UserMemory:
        """Kept aside in `proposals` (a script reviews them itself): never recalled or listed."""
        text = " ".join((memory or "").split())
        if not text:
            raise InvalidInput("memory text must not be empty")
        if target is not None:
            self._own_memory(run, target)
        proposal = UserMemory(
            memory=text,
            memory_id=f"prop_{uuid.uuid4().hex[:16]}",
            topics=_topics(topics),
            user_id=run.user_id,
            created_at=now(),
            source_run_id=run.run_id or None,
        )
        with self._lock:
            self.proposals.append(proposal)
        return proposal

    def memory_add(
        self,
        *,
        run: RunHandle,
        memory: str,
        topics: Sequence[str],
        actor: str,
        embedding: QueryVector | None = None,
        input: str | None = None,
        agent_id: str | None = None,
    ) -> tuple[UserMemory, bool]:
        text = " ".join((memory or "").split())
        if not text:
            raise InvalidInput("memory text must not be empty")
        with self._lock:
            for existing in self._memories.values():
                mine = existing.user_id == run.user_id and existing.current
                if mine and _normalized(existing.memory) == _normalized(text):
                    return existing.record(), False
            if embedding is not None and embedding.vector is not None:
                live = {
                    mid: vector
                    for mid, vector in self._vectors.items()
                    if self._memories[mid].user_id == run.user_id and self._memories[mid].current
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
                input=input or None,
                agent_id=agent_id or None,
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

    def memory_supersede(
        self,
        *,
        run: RunHandle,
        memory_id: str,
        memory: str,
        topics: Sequence[str] | None,
        actor: str,
        valid_from: datetime | None = None,
    ) -> UserMemory:
        text = " ".join((memory or "").split())
        if not text:
            raise InvalidInput("memory text must not be empty")
        with self._lock:
            old = self._own_memory(run, memory_id)
            if old.valid_to is not None:
                raise InvalidInput(f"memory {memory_id!r} is no longer current")
            if _normalized(text) == _normalized(old.memory):
                raise InvalidInput("the new fact says the same as the old one; edit its wording instead")
            when = _valid_moment(old, valid_from)
            same = (
                m
                for m in self._memories.values()
                if m.user_id == run.user_id and m.current and _normalized(m.memory) == _normalized(text)
            )
            new = next(same, None)
            if new is None:
                new = _Memory(
                    f"mem_{uuid.uuid4().hex[:16]}",
                    run.user_id,
                    text,
                    _topics(topics) if topics is not None else list(old.topics),
                    source_run_id=run.run_id or None,
                    valid_from=when,
                )
                self._memories[new.memory_id] = new
            old.valid_to, old.superseded_by, old.updated_at = when, new.memory_id, now()
            return new.record()

    def memory_expire(
        self, *, run: RunHandle, memory_id: str, actor: str, valid_to: datetime | None = None
    ) -> UserMemory:
        with self._lock:
            stored = self._own_memory(run, memory_id)
            if stored.valid_to is not None:
                raise InvalidInput(f"memory {memory_id!r} is no longer current")
            stored.valid_to, stored.updated_at = _valid_moment(stored, valid_to), now()
            return stored.record()

    def user_memories(self, *, user_id: str, limit: int | None = None) -> list[UserMemory]:
        with self._lock:
            mine = [m for m in self._memories.values() if m.user_id == user_id and m.current]
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
            others = (m for m in self._memories.values() if m.user_id == user_id and m.current)
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


def _valid_moment(memory: _Memory, when: datetime | None) -> datetime:
    moment = now() if when is None else when
    if moment.tzinfo is None:
        raise InvalidInput("a time without a time zone")
    if moment > now():
        raise InvalidInput("a fact cannot change in the future")
    if moment < memory.valid_from:
        raise InvalidInput("a fact cannot stop being true before it became true")
    return moment
