"""`MemoryTools`: Agno's memory toolkit, which any agent can be given (`tools=[MemoryTools()]`):
think, get_memories, add_memory, update_memory, delete_memory and analyze, always bound to the
run's user, each write the same audited one agentic memory makes."""

from __future__ import annotations

from collections.abc import Callable

from agentapp.llm.types import ToolSpec

from .memory_tools import memory_tools
from .records import RunHandle, UserMemory
from .storage import AgentDb
from .tools import Tool

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


class MemoryTools:
    """Agno's MemoryTools. `db`: where the memories live (the agent's by default)."""

    def __init__(
        self,
        db: AgentDb | None = None,
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
        self, *, db: AgentDb, run: RunHandle, on_change: Callable[[str, UserMemory], None]
    ) -> list[Tool]:
        """The tools for one run, bound to its user (through its own db, or the run's)."""
        store = self.db if self.db is not None else db
        scope = run if store is db else store.memory_scope(user_id=run.user_id)
        writes = memory_tools(
            db=store,
            run=scope,
            actor="model",
            on_change=on_change,
            allowed={k: self.flags[k] for k in ("add", "update", "delete")},
        )

        def think(thought: str) -> str:
            return f"Thought noted: {thought}"

        def analyze(analysis: str) -> str:
            return f"Analysis noted: {analysis}"

        def get_memories() -> list[dict[str, object]]:
            stored = store.user_memories(user_id=run.user_id, limit=MAX_LISTED)
            return [{"memory_id": m.memory_id, "memory": m.memory, "topics": m.topics} for m in stored]

        tools: list[Tool] = []
        if self.flags["think"]:
            tools.append(Tool(THINK_SPEC, think))
        if self.flags["get"]:
            tools.append(Tool(GET_SPEC, get_memories))
        tools.extend(writes)
        if self.flags["analyze"]:
            tools.append(Tool(ANALYZE_SPEC, analyze))
        return tools
