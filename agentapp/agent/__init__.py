"""The agent runtime: `Agent` and all it runs on, no Django in here; the public names are below.

`agent.py` is the Agent (its settings in `settings.py`); `run/` is one run (the turn, context
assembly, the driver, cancellation, output, the work after it); `memory/` what it remembers of a
person (the manager, the tools, optimisation, the ranking); `session/` a thread (history, its
tools, summaries, titles); `storage.py` is what it asks of a storage, `in_memory.py` a storage
without a database; `loop.py` the model/tool loop, `timeline.py` a run's recorded steps,
`telemetry.py` its spans, `prompt.py` the pieces of a request. Agno's own names live where an Agno
user looks for them: `agent_session.py` (AgentSession), `run_status.py` (RunStatus), `db_types.py`
(SessionType, BaseDb), `toolkit.py` (Toolkit, tool), `pprint.py` (pprint_run_response); the mapping of
imports is in docs/agno.md.
"""

from __future__ import annotations

from agentapp.llm.embeddings import Embedder, EmbeddingError
from agentapp.llm.types import Message, MessageMetrics, ModelError

from .agent import Agent
from .agent_session import AgentSession, SessionRecord
from .db_types import AsyncBaseDb, BaseDb, SessionType
from .errors import (
    AgentError,
    CheckTrigger,
    InputCheckError,
    InvalidInput,
    MemoryNotFound,
    OutputCheckError,
    RunIdTaken,
    RunNotFound,
    SessionOwnedByAnotherUser,
)
from .events import (
    CustomEvent,
    MemoryUpdateCompleted,
    MemoryUpdateCompletedEvent,
    MemoryUpdated,
    MemoryUpdateStarted,
    MemoryUpdateStartedEvent,
    ModelRequestCompleted,
    ModelRequestCompletedEvent,
    ModelRequestStarted,
    ModelRequestStartedEvent,
    ModelRetrying,
    RunCancelled,
    RunCancelledEvent,
    RunCompleted,
    RunCompletedEvent,
    RunContent,
    RunContentCompleted,
    RunContentCompletedEvent,
    RunContentEvent,
    RunContinued,
    RunContinuedEvent,
    RunError,
    RunErrorEvent,
    RunEvent,
    RunOutput,
    RunOutputEvent,
    RunPaused,
    RunPausedEvent,
    RunStarted,
    RunStartedEvent,
    SessionSummaryCompleted,
    SessionSummaryCompletedEvent,
    SessionSummaryStarted,
    SessionSummaryStartedEvent,
    ToolCallCompleted,
    ToolCallCompletedEvent,
    ToolCallError,
    ToolCallErrorEvent,
    ToolCallStarted,
    ToolCallStartedEvent,
)
from .in_memory import InMemoryDb
from .memory.manager import MemoryManager
from .memory.optimization import MemoryOptimizationStrategy, MemoryOptimizationStrategyType, SummarizeStrategy
from .memory.tools import MemoryTools
from .metrics import ModelMetrics, RunMetrics, ToolCallMetrics
from .pprint import pprint_run_response
from .records import SessionSummary, SessionSummaryRecord, UserMemory
from .requirements import RunRequirement, ToolExecution, UserInputField
from .run.followups import FollowupJob, Followups, RunInline
from .run_context import RunContext
from .run_status import RunStatus
from .session.summaries import SessionSummaryManager, SessionSummaryResponse
from .toolkit import Toolkit, tool
from .tools import Tool, tool_from_function

__all__ = [
    "Agent",
    "AgentError",
    "AgentSession",
    "AsyncBaseDb",
    "BaseDb",
    "CheckTrigger",
    "CustomEvent",
    "Embedder",
    "EmbeddingError",
    "FollowupJob",
    "Followups",
    "InMemoryDb",
    "InputCheckError",
    "InvalidInput",
    "MemoryManager",
    "MemoryNotFound",
    "MemoryOptimizationStrategy",
    "MemoryOptimizationStrategyType",
    "MemoryTools",
    "MemoryUpdateCompleted",
    "MemoryUpdateCompletedEvent",
    "MemoryUpdateStarted",
    "MemoryUpdateStartedEvent",
    "MemoryUpdated",
    "Message",
    "MessageMetrics",
    "ModelError",
    "ModelMetrics",
    "ModelRequestCompleted",
    "ModelRequestCompletedEvent",
    "ModelRequestStarted",
    "ModelRequestStartedEvent",
    "ModelRetrying",
    "OutputCheckError",
    "RunCancelled",
    "RunCancelledEvent",
    "RunCompleted",
    "RunCompletedEvent",
    "RunContent",
    "RunContentCompleted",
    "RunContentCompletedEvent",
    "RunContentEvent",
    "RunContext",
    "RunContinued",
    "RunContinuedEvent",
    "RunError",
    "RunErrorEvent",
    "RunEvent",
    "RunIdTaken",
    "RunInline",
    "RunMetrics",
    "RunNotFound",
    "RunOutput",
    "RunOutputEvent",
    "RunPaused",
    "RunPausedEvent",
    "RunRequirement",
    "RunStarted",
    "RunStartedEvent",
    "RunStatus",
    "SessionOwnedByAnotherUser",
    "SessionRecord",
    "SessionSummary",
    "SessionSummaryCompleted",
    "SessionSummaryCompletedEvent",
    "SessionSummaryManager",
    "SessionSummaryRecord",
    "SessionSummaryResponse",
    "SessionSummaryStarted",
    "SessionSummaryStartedEvent",
    "SessionType",
    "SummarizeStrategy",
    "Tool",
    "ToolCallCompleted",
    "ToolCallCompletedEvent",
    "ToolCallError",
    "ToolCallErrorEvent",
    "ToolCallMetrics",
    "ToolCallStarted",
    "ToolCallStartedEvent",
    "ToolExecution",
    "Toolkit",
    "UserInputField",
    "UserMemory",
    "pprint_run_response",
    "tool",
    "tool_from_function",
]
