"""The agent runtime: `Agent`, its run loop and context assembly. No Django in here."""

from __future__ import annotations

from agentapp.llm.types import ModelError

from .agent import Agent
from .errors import AgentError, InvalidInput, MemoryNotFound, RunNotFound, SessionOwnedByAnotherUser
from .events import (
    MemoryUpdated,
    RunCancelled,
    RunCompleted,
    RunContent,
    RunError,
    RunMetrics,
    RunOutput,
    RunOutputEvent,
    RunStarted,
    ToolCallCompleted,
    ToolCallStarted,
)
from .followups import FollowupJob, Followups, RunInline
from .in_memory import InMemoryDb
from .records import SessionRecord, SessionSummaryRecord, UserMemory
from .tools import Tool, tool_from_function

__all__ = [
    "Agent",
    "AgentError",
    "FollowupJob",
    "Followups",
    "InMemoryDb",
    "InvalidInput",
    "MemoryNotFound",
    "MemoryUpdated",
    "ModelError",
    "RunCancelled",
    "RunCompleted",
    "RunContent",
    "RunError",
    "RunInline",
    "RunMetrics",
    "RunNotFound",
    "RunOutput",
    "RunOutputEvent",
    "RunStarted",
    "SessionOwnedByAnotherUser",
    "SessionRecord",
    "SessionSummaryRecord",
    "Tool",
    "ToolCallCompleted",
    "ToolCallStarted",
    "UserMemory",
    "tool_from_function",
]
