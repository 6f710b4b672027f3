"""What a run reads of its Agent: a frozen copy taken when the run starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .tools import Tool


@dataclass(frozen=True)
class AgentOptions:
    name: str
    instructions: str
    add_history_to_context: bool
    num_history_runs: int | None
    num_history_messages: int | None
    enable_agentic_memory: bool
    update_memory_on_run: bool
    add_memories_to_context: bool
    memory_context_limit: int
    memory_context_tokens: int | None
    enable_session_summaries: bool
    add_session_summary_to_context: bool
    tools: tuple[Tool, ...]
    max_tool_rounds: int
    enable_agentic_state: bool = False
    agent_id: str = ""
    read_chat_history: bool = False
    read_tool_call_history: bool = False
    search_past_sessions: bool = False
    num_past_sessions_to_search: int = 3
    num_past_session_runs_in_search: int = 3
    max_tool_calls_from_history: int | None = None
    store_tool_messages: bool = True
    store_history_messages: bool = False
    store_events: bool = False
    # The writes agentic memory may make (a MemoryManager's flags); None: add, update and delete.
    memory_writes: dict[str, bool] | None = None
    toolkits: tuple[Any, ...] = ()  # MemoryTools, bound to each run

    @property
    def history_runs(self) -> int | None:
        """How many past runs the context gets (0: none)."""
        return self.num_history_runs if self.add_history_to_context else 0

    @property
    def history_messages(self) -> int | None:
        return self.num_history_messages if self.add_history_to_context else None
