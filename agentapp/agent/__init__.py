"""The agent runtime: `Agent` and all it runs on, no Django in here; the public names are below.

`agent.py` is the Agent (its settings in `settings.py`); `run/` is one run (the turn, context
assembly, the driver, cancellation, output, the work after it); `memory/` what it remembers of a
person (the manager, the tools, optimisation, the ranking); `session/` a thread (history, its
tools, summaries, titles); `storage.py` is what it asks of a storage, `in_memory.py` a storage
without a database; `loop.py` the model/tool loop, `timeline.py` a run's recorded steps,
`telemetry.py` its spans, `prompt.py` the pieces of a request.
"""

from __future__ import annotations

from agentapp.llm.embeddings import Embedder, EmbeddingError
from agentapp.llm.types import ModelError

from .agent import Agent
from .errors import AgentError, InvalidInput, MemoryNotFound, RunNotFound, SessionOwnedByAnotherUser
from .events import (
    MemoryUpdateCompleted,
    MemoryUpdateCompletedEvent,
    MemoryUpdated,
    MemoryUpdateStarted,
    MemoryUpdateStartedEvent,
    ModelRetrying,
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
from .in_memory import InMemoryDb
from .memory.manager import MemoryManager
from .memory.tools import MemoryTools
from .records import SessionRecord, SessionSummary, SessionSummaryRecord, UserMemory
from .run.followups import FollowupJob, Followups, RunInline
from .session.summaries import SessionSummaryManager
from .tools import Tool, tool_from_function

__all__ = [
    "Agent",
    "AgentError",
    "Embedder",
    "EmbeddingError",
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
    "ModelRetrying",
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
