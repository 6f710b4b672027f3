"""Agno's memory verbs on a storage (`get_user_memories`, `upsert_user_memory`, `clear_memories`...),
written once over the storage's own verbs, so that every write is the same audited one a run makes.

A storage mixes `MemoryVerbs` in and supplies the reads (`memories_page`, `memory_topics_all`,
`memory_stats`); the writes go through `memory_scope` and `memory_add/update/delete`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, cast, overload

from ..errors import InvalidInput, MemoryNotFound
from ..records import DEFAULT_USER_ID, UserMemory
from .storage import MemoryStorage, SortOrder

DEFAULT_ACTOR = "api"  # code calling the storage directly, as the REST API's callers do


def check_as_of(as_of: datetime) -> None:
    """An instant to ask "what was true then" of: aware, and not in the future."""
    if not isinstance(as_of, datetime):
        raise InvalidInput("as_of must be a datetime")
    if as_of.tzinfo is None:
        raise InvalidInput("as_of needs a time zone (for example 2026-03-02T12:00:00+00:00)")
    if as_of > datetime.now(UTC):
        raise InvalidInput("as_of is in the future: what will be true is not known yet")


class MemoryVerbs:
    # --- what the storage supplies ---------------------------------------------------------
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
        raise NotImplementedError

    def memory_topics_all(self, *, user_id: str | None = None) -> list[str]:
        raise NotImplementedError

    def memory_stats(self, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        raise NotImplementedError

    def _find(self, memory_id: str) -> UserMemory | None:
        """The live memory `memory_id`, whoever's it is."""
        raise NotImplementedError

    def _db(self) -> MemoryStorage:
        return cast(MemoryStorage, self)

    # --- reads, with Agno's names -----------------------------------------------------------
    @overload
    def get_user_memories(
        self,
        user_id: str | None = None,
        *,
        topics: Sequence[str] | None = None,
        search_content: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        as_of: datetime | None = None,
        include_superseded: bool = False,
        deserialize: Literal[True] = True,
    ) -> list[UserMemory]: ...

    @overload
    def get_user_memories(
        self,
        user_id: str | None = None,
        *,
        topics: Sequence[str] | None = None,
        search_content: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        as_of: datetime | None = None,
        include_superseded: bool = False,
        deserialize: Literal[False],
    ) -> tuple[list[dict[str, Any]], int]: ...

    def get_user_memories(
        self,
        user_id: str | None = None,
        *,
        topics: Sequence[str] | None = None,
        search_content: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        as_of: datetime | None = None,
        include_superseded: bool = False,
        deserialize: bool = True,
    ) -> list[UserMemory] | tuple[list[dict[str, Any]], int]:
        """The memories of `user_id` (everyone's without one) with all of `topics` and matching
        `search_content`, oldest first as Agno returns them unless `sort_by` ("created_at",
        "updated_at") and `sort_order` say otherwise; `page` (from 1) of `limit`. The facts true
        now; those true at `as_of` (an aware datetime, not in the future); past facts too with
        `include_superseded`. `deserialize=False`: Agno's `(dicts, total count before paging)`."""
        offset = (max(1, page) - 1) * limit if page and limit else 0
        if as_of is not None:
            check_as_of(as_of)
        query: dict[str, Any] = {
            "user_id": user_id,
            "topics": list(topics or ()),
            "search": search_content or "",
            "sort_by": sort_by,
            "sort_order": sort_order or "asc",
            "as_of": as_of,
            "include_superseded": include_superseded,
        }
        found = self.memories_page(limit=limit, offset=offset, **query)
        if deserialize:
            return found
        total = len(self.memories_page(**query)) if limit is not None else len(found)
        return [memory.to_dict() for memory in found], total

    @overload
    def get_user_memory(
        self, memory_id: str, user_id: str | None = None, *, deserialize: Literal[True] = True
    ) -> UserMemory | None: ...

    @overload
    def get_user_memory(
        self, memory_id: str, user_id: str | None = None, *, deserialize: Literal[False]
    ) -> dict[str, Any] | None: ...

    def get_user_memory(
        self, memory_id: str, user_id: str | None = None, *, deserialize: bool = True
    ) -> UserMemory | dict[str, Any] | None:
        """The memory, or None; with `user_id`, another person's memory is not found.
        `deserialize=False`: its `to_dict()`."""
        found = self._find(memory_id)
        if found is None or (user_id is not None and found.user_id != user_id):
            return None
        return found if deserialize else found.to_dict()

    def get_all_memory_topics(self, user_id: str | None = None) -> list[str]:
        return self.memory_topics_all(user_id=user_id)

    def get_user_memory_stats(
        self, limit: int | None = None, page: int | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Per person: `user_id`, `total_memories`, `last_memory_updated_at`; and how many people."""
        offset = (max(1, page) - 1) * limit if page and limit else 0
        return self.memory_stats(limit=limit, offset=offset)

    # --- writes: each one audited, with its actor ----------------------------------------------
    @overload
    def upsert_user_memory(
        self, memory: UserMemory, deserialize: Literal[True] = True, *, actor: str = DEFAULT_ACTOR
    ) -> UserMemory: ...

    @overload
    def upsert_user_memory(
        self, memory: UserMemory, deserialize: Literal[False], *, actor: str = DEFAULT_ACTOR
    ) -> dict[str, Any]: ...

    def upsert_user_memory(
        self, memory: UserMemory, deserialize: bool = True, *, actor: str = DEFAULT_ACTOR
    ) -> UserMemory | dict[str, Any]:
        """Store `memory` for `memory.user_id` ("default" without one): an update of that person's
        memory `memory_id` when it is theirs, else a new memory (ids are the storage's own: the new id
        is set on `memory`). Another person's memory id is never written through. The stored memory
        (`deserialize=False`: its `to_dict()`)."""
        memory.user_id = memory.user_id or DEFAULT_USER_ID
        scope = self._db().memory_scope(user_id=memory.user_id)
        current = self._find(memory.memory_id) if memory.memory_id else None
        current = current if current is not None and current.user_id == memory.user_id else None
        if current is not None:
            stored = self._db().memory_update(
                run=scope,
                memory_id=current.stored_id,
                memory=memory.memory,
                topics=memory.topics,
                actor=actor,
            )
        else:
            stored, _ = self._db().memory_add(
                run=scope,
                memory=memory.memory,
                topics=memory.topics,
                actor=actor,
                input=memory.input,
                agent_id=memory.agent_id,
            )
        memory.memory_id, memory.created_at, memory.updated_at = (
            stored.memory_id,
            stored.created_at,
            stored.updated_at,
        )
        return stored if deserialize else stored.to_dict()

    def upsert_memories(
        self, memories: Iterable[UserMemory], *, actor: str = DEFAULT_ACTOR
    ) -> list[UserMemory]:
        return [self.upsert_user_memory(memory, actor=actor) for memory in memories]

    def delete_user_memory(
        self, memory_id: str, user_id: str | None = None, *, actor: str = DEFAULT_ACTOR
    ) -> bool:
        """Delete `user_id`'s memory (without one, the memory `memory_id` whoever's, as
        `get_user_memory` finds it); soft: it can be restored from its history. False when there is
        no such memory."""
        found = self.get_user_memory(memory_id, user_id)
        if found is None or not found.user_id:
            return False
        try:
            self._db().memory_delete(
                run=self._db().memory_scope(user_id=found.user_id), memory_id=memory_id, actor=actor
            )
        except MemoryNotFound:
            return False
        return True

    def delete_user_memories(
        self, memory_ids: Iterable[str], user_id: str | None = None, *, actor: str = DEFAULT_ACTOR
    ) -> int:
        return sum(self.delete_user_memory(memory_id, user_id, actor=actor) for memory_id in memory_ids)

    def clear_memories(self, user_id: str | None = None, *, actor: str = DEFAULT_ACTOR) -> int:
        """Delete every memory of one person: `user_id`, else the default user's. Never everyone's
        (Agno's `clear_memories()` clears every person's; here that is `clear_all_memories`). How many
        were deleted."""
        user_id = user_id or DEFAULT_USER_ID
        ids = [m.memory_id for m in self.memories_page(user_id=user_id) if m.memory_id]
        return self.delete_user_memories(ids, user_id, actor=actor)

    def clear_all_memories(self, *, actor: str = DEFAULT_ACTOR) -> int:
        """Delete every memory of every person, each deletion audited."""
        deleted = 0
        for memory in self.memories_page(user_id=None):
            if memory.memory_id and memory.user_id:
                deleted += self.delete_user_memory(memory.memory_id, memory.user_id, actor=actor)
        return deleted
