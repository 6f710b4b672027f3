"""The memory tools the model calls, always bound to one run's user: add_memory, update_memory,
delete_memory, clear_memories (and, for agentic memory, search_memories); and `MemoryTools`, Agno's
toolkit over them (with think, get_memories and analyze), which any agent can be given.

The tools only ever see the run's user: the storage looks memories up by id *and* that user, so a
model passing another user's memory id finds nothing. Each write is the same audited one, with its
actor, on the run's timeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from agentapp.llm.types import ToolSpec

from ..prompt import render_memories
from ..records import EventRecord, RunHandle, UserMemory
from ..timeline import to_datetime
from ..tools import Tool
from .own_name import for_person
from .query_embedding import QueryEmbedding
from .recall import RecallQuery, asks_about_past
from .storage import MemoryStorage, ProposedChange

_TOPICS = {"type": "array", "items": {"type": "string"}, "description": "One or two short topic words."}

ADD_SPEC = ToolSpec(
    name="add_memory",
    description=(
        "Remember a lasting fact about the user, as one short sentence about them. When it replaces a "
        "stored fact that is no longer true (they moved, changed jobs, a plan was cancelled, two kids "
        "became three), give that memory's id as `replaces`: the old fact is kept, dated, as a past one."
    ),
    parameters={
        "type": "object",
        "properties": {
            "memory": {"type": "string", "description": "The fact, about the user."},
            "topics": _TOPICS,
            "replaces": {
                "type": "string",
                "description": "The id of the stored memory this new fact replaces, if any.",
            },
        },
        "required": ["memory"],
    },
)
UPDATE_SPEC = ToolSpec(
    name="update_memory",
    description=(
        "Correct a stored memory's wording (by its id): a typo, or a detail that was wrong from the "
        "start. When the fact itself changed, use add_memory with `replaces` instead."
    ),
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


MAX_LISTED = 100  # get_memories lists at most this many, the most recently updated

THINK_SPEC = ToolSpec(
    name="think",
    description="Think through what to remember, change or forget before you act. Nothing is stored.",
    parameters={"type": "object", "properties": {"thought": {"type": "string"}}, "required": ["thought"]},
)
ANALYZE_SPEC = ToolSpec(
    name="analyze",
    description="Check that the memory changes you made are what the user wanted. Nothing is stored.",
    parameters={"type": "object", "properties": {"analysis": {"type": "string"}}, "required": ["analysis"]},
)
GET_SPEC = ToolSpec(
    name="get_memories",
    description="List what is stored about the user, with each memory's id.",
    parameters={"type": "object", "properties": {}},
)


@dataclass(frozen=True)
class _UsersMemory:
    """The memory tools' work for one run's user."""

    db: MemoryStorage
    run: RunHandle
    actor: str
    on_change: MemoryListener
    embed: QueryEmbedding | None
    search_limit: int
    already_shown: Sequence[str]

    def _recorded(self, action: str, memory: UserMemory, started: float, arguments: dict[str, Any]) -> None:
        event = EventRecord(
            kind="memory_update",
            name=f"{action} {memory.memory_id}",
            started_at=to_datetime(started),
            ended_at=to_datetime(time.time()),
            payload={
                "action": action,
                "memory_id": memory.memory_id,
                "actor": self.actor,
                "arguments": arguments,
                "after": {"text": memory.memory, "topics": memory.topics},
            },
        )
        self.db.run_events_record(run=self.run, events=[event])
        self.on_change(action, memory)

    def _proposed(
        self, memory: str, topics: list[str] | None, change: ProposedChange, target: str | None
    ) -> str:
        started = time.time()
        proposal = self.db.memory_propose(
            run=self.run, memory=memory, topics=topics or [], actor=self.actor, change=change, target=target
        )
        self._recorded(
            "propose", proposal, started, {"memory": memory, "topics": topics or [], "change": change}
        )
        return (
            f"Proposed to the user as {proposal.memory_id}: it awaits their review and is not remembered "
            "unless they keep it. You may tell them it is waiting in their memories."
        )

    def add_memory(self, memory: str, topics: list[str] | None = None, replaces: str | None = None) -> str:
        if self.run.controls.review_memories:
            return self._proposed(memory, topics, "supersede" if replaces else "create", replaces or None)
        if replaces:
            return self.replace_memory(replaces, memory, topics)
        started = time.time()
        embed = for_person(self.embed, self.run.user_id)
        embedding = embed(memory) if embed is not None and memory.strip() else None
        stored, created = self.db.memory_add(
            run=self.run, memory=memory, topics=topics or [], actor=self.actor, embedding=embedding
        )
        if not created:
            return (
                f'Already stored as {stored.memory_id}: "{stored.memory}"; nothing changed. '
                "If the new fact is a different one, update that memory instead."
            )
        self._recorded("create", stored, started, {"memory": memory, "topics": topics or []})
        return f"Stored memory {stored.memory_id}."

    def replace_memory(self, memory_id: str, memory: str, topics: list[str] | None) -> str:
        started = time.time()
        new = self.db.memory_supersede(
            run=self.run, memory_id=memory_id, memory=memory, topics=topics, actor=self.actor
        )
        arguments = {"memory": memory, "topics": topics, "replaces": memory_id}
        self._recorded("supersede", new, started, arguments)
        return f"Stored memory {new.memory_id}; {memory_id} is kept as a past fact, true until now."

    def update_memory(self, memory_id: str, memory: str, topics: list[str] | None = None) -> str:
        if self.run.controls.review_memories:
            return self._proposed(memory, topics, "update", memory_id)
        started = time.time()
        stored = self.db.memory_update(
            run=self.run, memory_id=memory_id, memory=memory, topics=topics, actor=self.actor
        )
        arguments = {"memory_id": memory_id, "memory": memory, "topics": topics}
        self._recorded("update", stored, started, arguments)
        return f"Updated memory {memory_id}."

    def delete_memory(self, memory_id: str) -> str:
        started = time.time()
        gone = self.db.memory_delete(run=self.run, memory_id=memory_id, actor=self.actor)
        self._recorded("delete", gone, started, {"memory_id": memory_id})
        return f"Deleted memory {memory_id}."

    def search_memories(self, query: str) -> str:
        if not query.strip():
            return "Error: give the query in a few words."
        shown = set(self.already_shown)
        found = self.db.memories_recall(
            run=self.run,
            query=RecallQuery(
                text=query,
                limit=self.search_limit + len(shown),
                embed=self.embed,
                include_past=asks_about_past(query),
            ),
        )
        new = [m for m in found.memories if m.memory_id not in shown][: self.search_limit]
        if not new:
            return "No other stored memories match."
        return render_memories(new)

    def clear_memories(self) -> str:
        gone = 0
        for memory in self.db.user_memories(user_id=self.run.user_id):
            self.delete_memory(memory.stored_id)
            gone += 1
        return f"Deleted {gone} memories."


def memory_tools(
    *,
    db: MemoryStorage,
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
    mine = _UsersMemory(db, run, actor, on_change, embed, search_limit or SEARCH_TOOL_LIMIT, already_shown)
    flags = allowed if allowed is not None else {"add": True, "update": True, "delete": True}
    offered = [
        (flags.get("add"), Tool(ADD_SPEC, mine.add_memory)),
        (flags.get("update"), Tool(UPDATE_SPEC, mine.update_memory)),
        (flags.get("delete"), Tool(DELETE_SPEC, mine.delete_memory)),
        (flags.get("clear"), Tool(CLEAR_SPEC, mine.clear_memories)),
        (search_limit is not None, Tool(SEARCH_SPEC, mine.search_memories)),
    ]
    return [tool for on, tool in offered if on]


# --- Agno's toolkit ---------------------------------------------------------------------------------
class MemoryTools:
    """Agno's MemoryTools. `db`: where the memories live (the agent's by default)."""

    def __init__(
        self,
        db: MemoryStorage | None = None,
        *,
        enable_get_memories: bool = True,
        enable_add_memory: bool = True,
        enable_update_memory: bool = True,
        enable_delete_memory: bool = True,
        enable_think: bool = True,
        enable_analyze: bool = False,
    ) -> None:
        self.db = db
        self.flags = {
            "get": enable_get_memories,
            "add": enable_add_memory,
            "update": enable_update_memory,
            "delete": enable_delete_memory,
            "think": enable_think,
            "analyze": enable_analyze,
        }

    def tools_for_run(
        self, *, db: MemoryStorage, run: RunHandle, on_change: Callable[[str, UserMemory], None]
    ) -> list[Tool]:
        """The tools for one run, bound to its user (through its own db, or the run's)."""
        store = self.db if self.db is not None else db
        scope = (
            run if store is db else replace(store.memory_scope(user_id=run.user_id), controls=run.controls)
        )
        reads, learns = run.controls.reads_memories, run.controls.writes_memories
        writes = memory_tools(
            db=store,
            run=scope,
            actor="model",
            on_change=on_change,
            allowed={k: self.flags[k] and learns for k in ("add", "update", "delete")},
        )

        def think(thought: str) -> str:
            return f"Thought noted: {thought}"

        def analyze(analysis: str) -> str:
            return f"Analysis noted: {analysis}"

        def get_memories() -> list[dict[str, object]]:
            stored = store.user_memories(user_id=run.user_id, limit=MAX_LISTED)
            return [{"memory_id": m.memory_id, "memory": m.memory, "topics": m.topics} for m in stored]

        tools: list[Tool] = []
        if not (reads or learns):  # a temporary chat: the toolkit is not there at all
            return tools
        if self.flags["think"]:
            tools.append(Tool(THINK_SPEC, think))
        if self.flags["get"] and reads:
            tools.append(Tool(GET_SPEC, get_memories))
        tools.extend(writes)
        if self.flags["analyze"]:
            tools.append(Tool(ANALYZE_SPEC, analyze))
        return tools
