"""add_memory / update_memory / delete_memory (and, for agentic memory, search_memories), bound to
one run's user.

The tools only ever see the run's user: the storage looks memories up by id
*and* that user, so a model passing another user's memory id finds nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from agentapp.llm.types import ToolSpec

from .context import render_memories
from .recall import QueryEmbedding, RecallQuery
from .records import EventRecord, RunHandle, UserMemory
from .storage import AgentDb
from .timeutil import to_datetime
from .tools import Tool

_TOPICS = {"type": "array", "items": {"type": "string"}, "description": "One or two short topic words."}

ADD_SPEC = ToolSpec(
    name="add_memory",
    description="Remember a lasting fact about the user, as one short sentence about them.",
    parameters={
        "type": "object",
        "properties": {
            "memory": {"type": "string", "description": "The fact, about the user."},
            "topics": _TOPICS,
        },
        "required": ["memory"],
    },
)
UPDATE_SPEC = ToolSpec(
    name="update_memory",
    description="Replace a stored memory (by its id) when the fact changed.",
    parameters={
        "type": "object",
        "properties": {"memory_id": {"type": "string"}, "memory": {"type": "string"}, "topics": _TOPICS},
        "required": ["memory_id", "memory"],
    },
)
DELETE_SPEC = ToolSpec(
    name="delete_memory",
    description="Forget a stored memory (by its id) that is wrong or no longer true.",
    parameters={"type": "object", "properties": {"memory_id": {"type": "string"}}, "required": ["memory_id"]},
)

CLEAR_SPEC = ToolSpec(
    name="clear_memories",
    description="Forget everything stored about the user (only when they ask for exactly that).",
    parameters={"type": "object", "properties": {}},
)

SEARCH_SPEC = ToolSpec(
    name="search_memories",
    description=(
        "Search everything stored about the user (by meaning and words) when the memories you were "
        "given do not cover what the message needs."
    ),
    parameters={
        "type": "object",
        "properties": {"query": {"type": "string", "description": "What to look for, in a few words."}},
        "required": ["query"],
    },
)
SEARCH_TOOL_LIMIT = 10

MemoryListener = Callable[[str, UserMemory], None]


def memory_tools(
    *,
    db: AgentDb,
    run: RunHandle,
    actor: str,
    on_change: MemoryListener,
    embed: QueryEmbedding | None = None,
    search_limit: int | None = None,
    already_shown: Sequence[str] = (),
    allowed: dict[str, bool] | None = None,
) -> list[Tool]:
    """The memory tools for `run`'s user; each write is reported to `on_change`. With `embed`, a new
    memory is compared by meaning with the stored ones (a near-duplicate is not stored twice); with
    `search_limit`, search_memories is offered too, and finds what `already_shown` did not hold.
    `allowed` (a MemoryManager's flags: add, update, delete, clear) narrows the writes offered;
    without it, add, update and delete are."""

    def recorded(
        action: str, write: Callable[[], UserMemory], started: float, arguments: dict[str, Any]
    ) -> None:
        memory = write()
        db.run_events_record(
            run=run,
            events=[
                EventRecord(
                    kind="memory_update",
                    name=f"{action} {memory.memory_id}",
                    started_at=to_datetime(started),
                    ended_at=to_datetime(time.time()),
                    payload={
                        "action": action,
                        "memory_id": memory.memory_id,
                        "actor": actor,
                        "arguments": arguments,
                        "after": {"text": memory.memory, "topics": memory.topics},
                    },
                )
            ],
        )
        on_change(action, memory)

    def add_memory(memory: str, topics: list[str] | None = None) -> str:
        started = time.time()
        embedding = embed(memory) if embed is not None and memory.strip() else None
        stored, created = db.memory_add(
            run=run, memory=memory, topics=topics or [], actor=actor, embedding=embedding
        )
        if not created:
            return (
                f'Already stored as {stored.memory_id}: "{stored.memory}"; nothing changed. '
                "If the new fact is a different one, update that memory instead."
            )
        recorded("create", lambda: stored, started, {"memory": memory, "topics": topics or []})
        return f"Stored memory {stored.memory_id}."

    def update_memory(memory_id: str, memory: str, topics: list[str] | None = None) -> str:
        started = time.time()
        recorded(
            "update",
            lambda: db.memory_update(run=run, memory_id=memory_id, memory=memory, topics=topics, actor=actor),
            started,
            {"memory_id": memory_id, "memory": memory, "topics": topics},
        )
        return f"Updated memory {memory_id}."

    def delete_memory(memory_id: str) -> str:
        started = time.time()
        recorded(
            "delete",
            lambda: db.memory_delete(run=run, memory_id=memory_id, actor=actor),
            started,
            {"memory_id": memory_id},
        )
        return f"Deleted memory {memory_id}."

    def search_memories(query: str) -> str:
        if not query.strip():
            return "Error: give the query in a few words."
        shown = set(already_shown)
        limit = (search_limit or SEARCH_TOOL_LIMIT) + len(shown)
        found = db.memories_recall(run=run, query=RecallQuery(text=query, limit=limit, embed=embed))
        new = [m for m in found.memories if m.memory_id not in shown][: search_limit or SEARCH_TOOL_LIMIT]
        if not new:
            return "No other stored memories match."
        return render_memories(new)

    def clear_memories() -> str:
        gone = 0
        for memory in db.user_memories(user_id=run.user_id):
            delete_memory(memory.stored_id)
            gone += 1
        return f"Deleted {gone} memories."

    flags = allowed if allowed is not None else {"add": True, "update": True, "delete": True}
    offered = [
        (flags.get("add"), Tool(ADD_SPEC, add_memory)),
        (flags.get("update"), Tool(UPDATE_SPEC, update_memory)),
        (flags.get("delete"), Tool(DELETE_SPEC, delete_memory)),
        (flags.get("clear"), Tool(CLEAR_SPEC, clear_memories)),
    ]
    tools = [tool for on, tool in offered if on]
    if search_limit is not None:
        tools.append(Tool(SEARCH_SPEC, search_memories))
    return tools
