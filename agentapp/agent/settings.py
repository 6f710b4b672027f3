"""An Agent's settings: built once from its constructor's arguments, each under its one (Agno's) name.

Frozen: a change makes new settings (`changed`), so a run keeps the settings it started with. The
defaults are the constructor's (`Agent.__init__`); this class only derives and checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .hooks import hooks_of
from .memory.tools import MemoryTools
from .structured import check_schema
from .toolkit import expand_tools
from .tools import Tool

Instructions = str | Sequence[str] | Callable[..., str | Sequence[str]] | None
# Settings that may not be negative (None, where allowed, means "no bound").
_NOT_NEGATIVE = (
    "num_history_runs",
    "num_history_messages",
    "max_tool_calls_from_history",
    "memory_context_limit",
    "memory_context_tokens",
    "num_history_sessions",
)


@dataclass(frozen=True)
class AgentSettings:
    name: str
    id: str
    instructions: Instructions
    description: str | None
    markdown: bool
    # Agno's additional information in the system message: the current time (in
    # `timezone_identifier`, formatted by `datetime_format`) and the agent's name.
    add_datetime_to_context: bool
    timezone_identifier: str | None
    datetime_format: str | None
    add_name_to_context: bool
    telemetry: bool  # accepted for Agno's scripts; nothing is ever sent anywhere
    session_state: dict[str, Any] | None  # the default state of every session
    add_session_state_to_context: bool
    overwrite_db_session_state: bool
    enable_agentic_state: bool
    # Tools over what was said before (Agno's), all bounded and all the run's user's own.
    read_chat_history: bool
    read_tool_call_history: bool
    search_past_sessions: bool
    num_past_sessions_to_search: int
    num_past_session_runs_in_search: int
    # Agno 2's names: a tool over the person's last `num_history_sessions` other sessions.
    search_session_history: bool
    num_history_sessions: int | None
    add_history_to_context: bool
    num_history_runs: int | None
    num_history_messages: int | None
    max_tool_calls_from_history: int | None
    store_tool_messages: bool
    store_history_messages: bool
    store_events: bool
    enable_agentic_memory: bool
    update_memory_on_run: bool
    add_memories_to_context: bool
    memory_context_limit: int
    memory_context_tokens: int | None
    embed_timeout: float
    enable_session_summaries: bool
    add_session_summary_to_context: bool
    tools: tuple[Tool, ...]
    # Toolkits (MemoryTools) are bound to each run's user and storage when the run starts.
    toolkits: tuple[MemoryTools, ...]
    max_tool_rounds: int
    tool_hooks: tuple[Any, ...]  # Agno's: middleware around every tool call (tools.py)
    output_schema: Any  # Agno's: a pydantic model class or a JSON schema (agent/structured.py)
    # Agno's hooks (agent/hooks.py): callables or guardrails, run before the model and after its reply.
    pre_hooks: tuple[Any, ...]
    post_hooks: tuple[Any, ...]
    debug_mode: bool  # the run's steps logged at DEBUG on `agentapp.agent` (Agno's debug log)
    # Accepted for Agno's scripts: sessions are always read from the storage (no cache to go stale),
    # and no media is taken, so none is stored.
    cache_session: bool
    store_media: bool

    def __post_init__(self) -> None:
        for name in _NOT_NEGATIVE:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any]) -> AgentSettings:
        """The settings among `arguments` (the Agent constructor's, by name), with Agno's derived
        defaults: memories and the summary go into the context when their features are on."""
        given = {
            field.name: arguments[field.name] for field in dataclasses.fields(cls) if field.name in arguments
        }
        tools: Iterable[Any] = arguments.get("tools", ())
        tools = tuple(tools)
        given["tools"] = expand_tools(tool for tool in tools if not isinstance(tool, MemoryTools))
        given["toolkits"] = tuple(tool for tool in tools if isinstance(tool, MemoryTools))
        given["id"] = given.get("id") or given["name"]
        given["output_schema"] = check_schema(given.get("output_schema"))
        given["tool_hooks"] = tuple(given.get("tool_hooks") or ())
        if not all(callable(hook) for hook in given["tool_hooks"]):
            raise TypeError("each of tool_hooks must be a function")
        for name in ("pre_hooks", "post_hooks"):
            given[name] = tuple(given.get(name) or ())
            hooks_of(given[name])  # each must be callable (or a guardrail), refused at once otherwise
        given["session_state"] = dict(given["session_state"]) if given.get("session_state") else None
        for name in ("num_past_sessions_to_search", "num_past_session_runs_in_search"):
            given[name] = max(1, given[name])
        if given.get("add_memories_to_context") is None:
            given["add_memories_to_context"] = given["enable_agentic_memory"] or given["update_memory_on_run"]
        if given.get("add_session_summary_to_context") is None:
            given["add_session_summary_to_context"] = given["enable_session_summaries"]
        return cls(**given)

    def changed(self, **changes: Any) -> AgentSettings:
        """These settings with `changes` (by the constructor's names: `tools` takes toolkits too)."""
        arguments = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        arguments["tools"] = (*self.tools, *self.toolkits)
        return AgentSettings.from_arguments({**arguments, **changes})

    @property
    def history_runs(self) -> int | None:
        """How many past runs the context gets (0: none)."""
        return self.num_history_runs if self.add_history_to_context else 0

    @property
    def history_messages(self) -> int | None:
        return self.num_history_messages if self.add_history_to_context else None


SETTING_NAMES = frozenset(field.name for field in dataclasses.fields(AgentSettings)) - {"toolkits"}
