"""The rest of Agno's `MemoryManager` surface, a part of `MemoryManager` (memory.manager): reading
everything (`read_from_db`), `clear`, and the async twins (`aget_user_memories`,
`acreate_user_memories`, ...).

An async twin awaits a storage whose verbs are coroutines (an Agno-style async db); for this
project's storages, whose verbs are sync, it runs the sync method on a thread.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import sync_to_async

from agentapp.llm.types import Message

from ..records import DEFAULT_USER_ID, UserMemory
from .storage import MemoryStorage

logger = logging.getLogger("agentapp.agent.memory")


def no_db(what: str) -> None:
    """Agno's answer to a read without a db: a warning, and nothing found."""
    logger.warning("MemoryManager has no db: %s finds nothing (give MemoryManager(db=...))", what)


async def _called(verb: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`verb(...)`, awaited when the storage is async, else on a thread."""
    if inspect.iscoroutinefunction(verb):
        return await verb(*args, **kwargs)
    result = await sync_to_async(verb, thread_sensitive=True)(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


class ManagerAgnoVerbs:
    db: MemoryStorage | None
    get_user_memories: Callable[..., list[UserMemory]]
    get_user_memory: Callable[..., UserMemory | None]
    create_user_memories: Callable[..., str]
    update_memory_task: Callable[..., str]
    clear_user_memories: Callable[..., int]

    def read_from_db(self, user_id: str | None = None) -> dict[str, list[UserMemory]] | None:
        """The memories by person (one person's with `user_id`, else everyone's); None without a db.
        A memory without an id or a person is left out, as Agno does."""
        if self.db is None:
            return None
        return _by_person(self.db.get_user_memories(user_id=user_id))

    async def aread_from_db(self, user_id: str | None = None) -> dict[str, list[UserMemory]] | None:
        if self.db is None:
            return None
        return _by_person(await _called(self.db.get_user_memories, user_id=user_id))

    def clear(self) -> int:
        """Agno's `clear()` empties the whole memory table; here it clears the default user's
        memories only (everyone's is the storage's `clear_all_memories`). 0 without a db."""
        return self.clear_user_memories() if self.db is not None else 0

    async def aget_user_memories(self, user_id: str | None = None, **filters: Any) -> list[UserMemory]:
        if self.db is None:
            no_db("aget_user_memories")
            return []
        return list(await _called(self.db.get_user_memories, user_id or DEFAULT_USER_ID, **filters))

    async def aget_user_memory(self, memory_id: str, user_id: str | None = None) -> UserMemory | None:
        if self.db is None:
            no_db("aget_user_memory")
            return None
        found: UserMemory | None = await _called(
            self.db.get_user_memory, memory_id, user_id or DEFAULT_USER_ID
        )
        return found

    async def acreate_user_memories(
        self,
        message: str | None = None,
        messages: Sequence[Message] | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        user_id: str | None = None,
    ) -> str:
        create = sync_to_async(self.create_user_memories, thread_sensitive=True)
        return await create(message, messages, agent_id, team_id, user_id)

    async def aupdate_memory_task(self, task: str, user_id: str | None = None) -> str:
        return await sync_to_async(self.update_memory_task, thread_sensitive=True)(task, user_id)


def _by_person(memories: Sequence[UserMemory]) -> dict[str, list[UserMemory]]:
    grouped: dict[str, list[UserMemory]] = {}
    for memory in memories:
        if memory.memory_id and memory.user_id:
            grouped.setdefault(memory.user_id, []).append(memory)
    return grouped


__all__ = ["ManagerAgnoVerbs", "no_db"]
