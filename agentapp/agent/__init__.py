"""The agent runtime: `Agent`, its run loop and context assembly. No Django in here."""

from __future__ import annotations

from .agent import Agent
from .events import (
    MemoryUpdated,
    RunCancelled,
    RunCompleted,
    RunContent,
    RunError,
    RunEvent,
    RunMetrics,
    RunOutput,
    RunStarted,
    ToolCallCompleted,
    ToolCallStarted,
)
from .records import SessionRecord, SessionSummaryRecord, UserMemory
from .tools import Tool, tool_from_function

__all__ = [
    "Agent",
    "MemoryUpdated",
    "RunCancelled",
    "RunCompleted",
    "RunContent",
    "RunError",
    "RunEvent",
    "RunMetrics",
    "RunOutput",
    "RunStarted",
    "SessionRecord",
    "SessionSummaryRecord",
    "Tool",
    "ToolCallCompleted",
    "ToolCallStarted",
    "UserMemory",
    "tool_from_function",
]
