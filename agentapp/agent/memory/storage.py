"""What the memory side asks of a storage: its memory verbs, always for one person, and Agno's.

Declared here rather than in `agent.storage` so that memory/ never imports the whole protocol (which
is built on this one): the storage protocol names the ranking's types, and the ranking lives here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, overload

from ..records import RunHandle, UserMemory
from ..timeline import TimelineStorage
from .query_embedding import QueryVector
from .recall import Recall, RecallQuery

SortOrder = Literal["asc", "desc"]
ProposedChange = Literal["create", "supersede", "update"]


class MemoryStorage(TimelineStorage, Protocol):
    # --- the storage's own verbs, always those of the run's user ---------------------------------
    def run_user_messages(self, *, run: RunHandle) -> list[str]:
        """What the user said in the run (what an automatic memory update reads)."""
        ...

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
        input: str | None = None,
        agent_id: str | None = None,
    ) -> tuple[UserMemory, bool]:
        """The stored memory and whether it is new: an identical one, or (given the new text's
        `embedding`) one at least NEAR_DUPLICATE_SIMILARITY alike, is returned as it is. A new one
        keeps Agno's `input` (what was said that taught it) and `agent_id` (who wrote it)."""
        ...

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
        """What the agent would remember, stored for the person's review (their settings ask for it)
        instead of kept: never in the context until they keep it. `change` says what keeping does:
        create it, supersede `target` with it, or correct `target`'s wording. The returned record's
        `memory_id` is the proposal's id."""
        ...

    def memories_recall(self, *, run: RunHandle, query: RecallQuery) -> Recall:
        """The run's user's memories best matching `query.text`, within its budget."""
        ...

    def memory_update(
        self, *, run: RunHandle, memory_id: str, memory: str | None, topics: Sequence[str] | None, actor: str
    ) -> UserMemory: ...

    def memory_delete(self, *, run: RunHandle, memory_id: str, actor: str) -> UserMemory: ...

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
        """The fact of `memory_id` changed: it is closed (true until `valid_from`, default now) and
        `memory` stored as what is true since; returns the memory now current (an identical current
        one when there is one). InvalidInput when `memory_id` is no longer current or the text is the
        same; MemoryNotFound when it is not the run's user's."""
        ...

    def memory_expire(
        self, *, run: RunHandle, memory_id: str, actor: str, valid_to: datetime | None = None
    ) -> UserMemory:
        """No longer true, with nothing in its place: closed at `valid_to` (default now)."""
        ...

    def user_memories(self, *, user_id: str, limit: int | None = None) -> list[UserMemory]:
        """The user's memories, most recently updated first."""
        ...

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

    # --- Agno's memory verbs (memory.verbs.MemoryVerbs writes them once for every storage) ----------
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

    @overload
    def get_user_memory(
        self, memory_id: str, user_id: str | None = None, *, deserialize: Literal[True] = True
    ) -> UserMemory | None: ...

    @overload
    def get_user_memory(
        self, memory_id: str, user_id: str | None = None, *, deserialize: Literal[False]
    ) -> dict[str, Any] | None: ...

    def get_all_memory_topics(self, user_id: str | None = None) -> list[str]: ...

    def get_user_memory_stats(
        self, limit: int | None = None, page: int | None = None
    ) -> tuple[list[dict[str, Any]], int]: ...

    @overload
    def upsert_user_memory(
        self, memory: UserMemory, deserialize: Literal[True] = True, *, actor: str = ...
    ) -> UserMemory: ...

    @overload
    def upsert_user_memory(
        self, memory: UserMemory, deserialize: Literal[False], *, actor: str = ...
    ) -> dict[str, Any]: ...

    def upsert_memories(self, memories: Iterable[UserMemory], *, actor: str = ...) -> list[UserMemory]: ...

    def delete_user_memory(self, memory_id: str, user_id: str | None = None, *, actor: str = ...) -> bool: ...

    def delete_user_memories(
        self, memory_ids: Iterable[str], user_id: str | None = None, *, actor: str = ...
    ) -> int: ...

    def clear_memories(self, user_id: str | None = None, *, actor: str = ...) -> int:
        """One person's memories (the default user's without `user_id`), never everyone's."""
        ...

    def clear_all_memories(self, *, actor: str = ...) -> int: ...
