"""The agent runtime: `Agent`, its run loop and context assembly. No Django in here."""

from __future__ import annotations

from agentapp.llm.types import ModelError

from .agent import Agent
from .errors import AgentError, InvalidInput, MemoryNotFound, RunNotFound, SessionOwnedByAnotherUser
from .events import (
    MemoryUpdateCompleted,
    MemoryUpdateCompletedEvent,
    MemoryUpdated,
    MemoryUpdateStarted,
    MemoryUpdateStartedEvent,
    RunCancelled,
    RunCancelledEvent,
    RunCompleted,
    RunCompletedEvent,
    RunContent,
    RunContentEvent,
    RunError,
    RunErrorEvent,
    RunEvent,
    RunMetrics,
    RunOutput,
    RunOutputEvent,
    RunStarted,
    RunStartedEvent,
    SessionSummaryCompleted,
    SessionSummaryCompletedEvent,
    SessionSummaryStarted,
    SessionSummaryStartedEvent,
    ToolCallCompleted,
    ToolCallCompletedEvent,
    ToolCallStarted,
    ToolCallStartedEvent,
    ToolExecution,
)
from .followups import FollowupJob, Followups, RunInline
from .in_memory import InMemoryDb
from .memory_manager import MemoryManager
from .memory_toolkit import MemoryTools
from .records import SessionRecord, SessionSummary, SessionSummaryRecord, UserMemory
from .summarizer import SessionSummaryManager
from .tools import Tool, tool_from_function

__all__ = [
    "Agent",
    "AgentError",
    "FollowupJob",
    "Followups",
    "InMemoryDb",
    "InvalidInput",
    "MemoryManager",
    "MemoryNotFound",
    "MemoryTools",
    "MemoryUpdateCompleted",
    "MemoryUpdateCompletedEvent",
    "MemoryUpdateStarted",
    "MemoryUpdateStartedEvent",
    "MemoryUpdated",
    "ModelError",
    "RunCancelled",
    "RunCancelledEvent",
    "RunCompleted",
    "RunCompletedEvent",
    "RunContent",
    "RunContentEvent",
    "RunError",
    "RunErrorEvent",
    "RunEvent",
    "RunInline",
    "RunMetrics",
    "RunNotFound",
    "RunOutput",
    "RunOutputEvent",
    "RunStarted",
    "RunStartedEvent",
    "SessionOwnedByAnotherUser",
    "SessionRecord",
    "SessionSummary",
    "SessionSummaryCompleted",
    "SessionSummaryCompletedEvent",
    "SessionSummaryManager",
    "SessionSummaryRecord",
    "SessionSummaryStarted",
    "SessionSummaryStartedEvent",
    "Tool",
    "ToolCallCompleted",
    "ToolCallCompletedEvent",
    "ToolCallStarted",
    "ToolCallStartedEvent",
    "ToolExecution",
    "UserMemory",
    "tool_from_function",
]
