"""What `Agent.run(stream=True)` yields (the `RunOutputEvent`s, named as Agno names them), and what a
finished run returns.

Every event has `.event` (a `RunEvent` value) and `.content` (the text for content events, None for
the others), so Agno's `for chunk in agent.run(..., stream=True): print(chunk.content)` works. The
classes also go by Agno's names (`RunContentEvent`, `ToolCallStartedEvent` with `.tool`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from agentapp.llm.types import Message

from .run_status import RunStatus


@dataclass(frozen=True)
class RunMetrics:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0
    ttft_ms: int | None = None
    model_requests: int = 0
    tool_calls: int = 0


@dataclass(frozen=True)
class RunOutput:
    """A run's outcome. Built by a run (or by `get_run_output` from storage); every field has a default
    so that Agno's `RunOutput(run_id=..., status=RunStatus.completed, messages=[...])` builds one."""

    content: str = ""
    run_id: str = ""
    session_id: str = ""
    user_id: str = ""
    status: str = "running"  # a RunStatus (completed, error, cancelled), equal to its word in either case
    messages: list[Message] = field(default_factory=list)
    metrics: RunMetrics = field(default_factory=RunMetrics)
    error: str | None = None
    memories_used: list[str] = field(default_factory=list)
    session_state: dict[str, Any] | None = None
    # As Agno's RunOutput has them.
    agent_id: str = ""
    agent_name: str = ""
    model: str = ""
    model_provider: str = ""
    created_at: int = 0  # seconds since the epoch, when the run started
    input: str = ""
    tools: list[ToolExecution] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    content_type: str = "str"
    # With the Agent's store_events, every event of the run but the content chunks, as yielded.
    events: list[RunOutputEvent] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))  # Agno's enum, equal to the word

    def to_dict(self) -> dict[str, Any]:
        """The run as Agno's `RunOutput.to_dict` has its main keys (the status in Agno's upper case)."""
        data = {name: getattr(self, name) for name in _OUTPUT_KEYS}
        data["status"] = RunStatus(self.status).value
        data["messages"] = [message.to_dict() for message in self.messages]
        data["metrics"] = vars(self.metrics)
        return data


_OUTPUT_KEYS = (
    "run_id",
    "session_id",
    "user_id",
    "agent_id",
    "agent_name",
    "content",
    "content_type",
    "input",
    "model",
    "model_provider",
    "created_at",
    "error",
    "session_state",
    "metadata",
)


class RunEvent(StrEnum):
    """The events a run streams, with Agno's values (and MemoryUpdated, one memory written)."""

    run_started = "RunStarted"
    run_content = "RunContent"
    run_completed = "RunCompleted"
    run_error = "RunError"
    run_cancelled = "RunCancelled"
    model_retrying = "ModelRetrying"
    tool_call_started = "ToolCallStarted"
    tool_call_completed = "ToolCallCompleted"
    memory_update_started = "MemoryUpdateStarted"
    memory_update_completed = "MemoryUpdateCompleted"
    memory_updated = "MemoryUpdated"
    session_summary_started = "SessionSummaryStarted"
    session_summary_completed = "SessionSummaryCompleted"


@dataclass(frozen=True)
class ToolExecution:
    """One tool call as Agno's events carry it (`event.tool`)."""

    tool_call_id: str
    tool_name: str
    tool_args: str
    result: str | None = None
    tool_call_error: bool = False


class _NoContent:
    """Events that carry no text: `.content` is None, as on Agno's."""

    content: ClassVar[None] = None


@dataclass(frozen=True)
class RunStarted(_NoContent):
    event: ClassVar[str] = RunEvent.run_started.value
    run_id: str
    session_id: str
    user_id: str


@dataclass(frozen=True)
class RunContent:
    event: ClassVar[str] = RunEvent.run_content.value
    run_id: str
    content: str


@dataclass(frozen=True)
class ModelRetrying(_NoContent):
    """The model request failed with nothing said yet and is made again after `delay` seconds, within
    the model's timeout (this project's event; Agno has none)."""

    event: ClassVar[str] = RunEvent.model_retrying.value
    run_id: str
    attempt: int  # the attempt about to be made: 2 is the first retry
    attempts: int  # at most this many in all
    delay: float
    reason: str


@dataclass(frozen=True)
class ToolCallStarted(_NoContent):
    event: ClassVar[str] = RunEvent.tool_call_started.value
    run_id: str
    tool_call_id: str
    tool_name: str
    tool_args: str

    @property
    def tool(self) -> ToolExecution:
        return ToolExecution(self.tool_call_id, self.tool_name, self.tool_args)


@dataclass(frozen=True)
class ToolCallCompleted(_NoContent):
    event: ClassVar[str] = RunEvent.tool_call_completed.value
    run_id: str
    tool_call_id: str
    tool_name: str
    result: str
    is_error: bool

    @property
    def tool(self) -> ToolExecution:
        return ToolExecution(self.tool_call_id, self.tool_name, "", self.result, self.is_error)


@dataclass(frozen=True)
class MemoryUpdated(_NoContent):
    event: ClassVar[str] = RunEvent.memory_updated.value
    run_id: str
    action: str  # create, update, delete
    memory_id: str
    memory: str


@dataclass(frozen=True)
class MemoryUpdateStarted(_NoContent):
    """The automatic memory update begins here (it is done before RunCompleted)."""

    event: ClassVar[str] = RunEvent.memory_update_started.value
    run_id: str


@dataclass(frozen=True)
class MemoryUpdateCompleted(_NoContent):
    event: ClassVar[str] = RunEvent.memory_update_completed.value
    run_id: str
    changes: int = 0  # memories written
    error: str | None = None


@dataclass(frozen=True)
class SessionSummaryStarted(_NoContent):
    event: ClassVar[str] = RunEvent.session_summary_started.value
    run_id: str


@dataclass(frozen=True)
class SessionSummaryCompleted(_NoContent):
    event: ClassVar[str] = RunEvent.session_summary_completed.value
    run_id: str
    session_summary: str | None = None  # the summary's text now
    error: str | None = None


@dataclass(frozen=True)
class RunCompleted:
    event: ClassVar[str] = RunEvent.run_completed.value
    run_id: str
    output: RunOutput

    @property
    def content(self) -> str:
        return self.output.content


@dataclass(frozen=True)
class RunError:
    event: ClassVar[str] = RunEvent.run_error.value
    run_id: str
    error: str
    output: RunOutput

    @property
    def content(self) -> str:
        return self.error


@dataclass(frozen=True)
class RunCancelled(_NoContent):
    event: ClassVar[str] = RunEvent.run_cancelled.value
    run_id: str
    output: RunOutput


RunOutputEvent = (
    RunStarted
    | RunContent
    | ModelRetrying
    | ToolCallStarted
    | ToolCallCompleted
    | MemoryUpdated
    | MemoryUpdateStarted
    | MemoryUpdateCompleted
    | SessionSummaryStarted
    | SessionSummaryCompleted
    | RunCompleted
    | RunError
    | RunCancelled
)

# Agno's class names.
RunStartedEvent = RunStarted
RunContentEvent = RunContent
RunCompletedEvent = RunCompleted
RunErrorEvent = RunError
RunCancelledEvent = RunCancelled
ToolCallStartedEvent = ToolCallStarted
ToolCallCompletedEvent = ToolCallCompleted
MemoryUpdateStartedEvent = MemoryUpdateStarted
MemoryUpdateCompletedEvent = MemoryUpdateCompleted
SessionSummaryStartedEvent = SessionSummaryStarted
SessionSummaryCompletedEvent = SessionSummaryCompleted


def event_payload(event: Any) -> dict[str, Any]:
    """A JSON-ready dict of a stream event (for SSE frames and logs)."""
    data: dict[str, Any] = {"event": event.event}
    for name, value in vars(event).items():
        if isinstance(value, RunOutput):
            data[name] = {
                "content": value.content,
                "status": RunStatus(value.status).stored,
                "error": value.error,
                "metrics": vars(value.metrics),
            }
        else:
            data[name] = value
    return data
