"""What `Agent.run(stream=True)` yields (the `RunOutputEvent`s, named as Agno names them), and what a
finished run returns.

Every event has `.event` (a `RunEvent` value) and `.content` (the text for content events, None for
the others), so Agno's `for chunk in agent.run(..., stream=True): print(chunk.content)` works. The
classes also go by Agno's names (`RunContentEvent`, `ToolCallStartedEvent` with `.tool`, ...).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, is_dataclass
from enum import StrEnum
from typing import Any, ClassVar

from agentapp.llm.types import Message

from .metrics import RunMetrics
from .requirements import PauseViews, RunRequirement, ToolExecution
from .run_status import RunStatus


@dataclass(frozen=True)
class RunOutput(PauseViews):
    """A run's outcome. Built by a run (or by `get_run_output` from storage); every field has a default
    so that Agno's `RunOutput(run_id=..., status=RunStatus.completed, messages=[...])` builds one."""

    content: Any = ""  # the reply's text; with an output_schema, its value (a model instance or a dict)
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
    # A paused run's: what the caller must settle before `continue_run` (Agno's HITL requirements).
    requirements: list[RunRequirement] | None = None
    content_type: str = "str"
    # With the Agent's store_events, every event of the run but the content chunks, as yielded.
    events: list[RunOutputEvent] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))  # Agno's enum, equal to the word

    def to_dict(self) -> dict[str, Any]:
        """The run as Agno's `RunOutput.to_dict` has its main keys (the status in Agno's upper case)."""
        data = {name: getattr(self, name) for name in _OUTPUT_KEYS}
        data["status"] = RunStatus(self.status).value
        if hasattr(self.content, "model_dump"):  # an output schema's value, as Agno dumps it
            data["content"] = self.content.model_dump(exclude_none=True, mode="json")
        data["messages"] = [message.to_dict() for message in self.messages]
        data["metrics"] = self.metrics.to_dict()
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
    run_content_completed = "RunContentCompleted"
    run_completed = "RunCompleted"
    run_error = "RunError"
    run_cancelled = "RunCancelled"
    run_paused = "RunPaused"
    run_continued = "RunContinued"
    model_request_started = "ModelRequestStarted"
    model_request_completed = "ModelRequestCompleted"
    model_retrying = "ModelRetrying"
    tool_call_started = "ToolCallStarted"
    tool_call_completed = "ToolCallCompleted"
    tool_call_error = "ToolCallError"
    memory_update_started = "MemoryUpdateStarted"
    memory_update_completed = "MemoryUpdateCompleted"
    memory_updated = "MemoryUpdated"
    session_summary_started = "SessionSummaryStarted"
    session_summary_completed = "SessionSummaryCompleted"
    custom_event = "CustomEvent"


class _NoContent:
    """Events that carry no text: `.content` is None, as on Agno's."""

    content: ClassVar[None] = None
    is_paused: ClassVar[bool] = False  # every event says it, as Agno's (True on RunPaused)


@dataclass(frozen=True)
class RunStarted(_NoContent):
    event: ClassVar[str] = RunEvent.run_started.value
    run_id: str
    session_id: str
    user_id: str


@dataclass(frozen=True)
class RunContent:
    event: ClassVar[str] = RunEvent.run_content.value
    is_paused: ClassVar[bool] = False
    run_id: str
    content: str


@dataclass(frozen=True)
class RunContentCompleted(_NoContent):
    """The reply's text is all said (before the work after the run, and RunCompleted)."""

    event: ClassVar[str] = RunEvent.run_content_completed.value
    run_id: str


@dataclass(frozen=True)
class ModelRequestStarted(_NoContent):
    """A request to the model is about to be made (each round of the run has one)."""

    event: ClassVar[str] = RunEvent.model_request_started.value
    run_id: str
    model: str
    model_provider: str


@dataclass(frozen=True)
class ModelRequestCompleted(_NoContent):
    """The model answered (a failed request ends the run with RunError instead)."""

    event: ClassVar[str] = RunEvent.model_request_completed.value
    run_id: str
    model: str
    model_provider: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    time_to_first_token: float | None = None  # seconds
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None


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
class ToolCallError(_NoContent):
    """A tool raised (after its ToolCallCompleted); the model was told the error, and the run goes on."""

    event: ClassVar[str] = RunEvent.tool_call_error.value
    run_id: str
    tool: ToolExecution
    error: str


@dataclass
class CustomEvent:
    """An event of a tool's own: a tool that is a generator may yield one (a subclass, with fields of
    its own) among its output; it reaches the caller's stream, stamped with the run and the tool call,
    as Agno's does. It takes any keyword, as Agno's."""

    event: str = RunEvent.custom_event.value
    run_id: str | None = None
    session_id: str | None = None
    agent_id: str = ""
    agent_name: str = ""
    tool_call_id: str | None = None
    created_at: int = field(default_factory=lambda: int(time.time()))
    content: Any = None
    is_paused: ClassVar[bool] = False

    def __init__(self, **kwargs: Any) -> None:
        self.event = RunEvent.custom_event.value
        self.created_at = int(time.time())
        for key, value in kwargs.items():
            setattr(self, key, value)


def is_custom_event(item: Any) -> bool:
    """Ours or Agno's own `CustomEvent` (a tool written for Agno)."""
    return isinstance(item, CustomEvent) or getattr(item, "event", None) == RunEvent.custom_event.value


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
    is_paused: ClassVar[bool] = False
    run_id: str
    output: RunOutput

    @property
    def content(self) -> Any:  # the reply's text, or its output schema's value
        return self.output.content

    @property
    def session_state(self) -> dict[str, Any] | None:
        return self.output.session_state

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self.output.metadata

    @property
    def metrics(self) -> RunMetrics:
        return self.output.metrics


@dataclass(frozen=True)
class RunError:
    event: ClassVar[str] = RunEvent.run_error.value
    is_paused: ClassVar[bool] = False
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


@dataclass(frozen=True)
class RunPaused(_NoContent):
    """The run waits for its caller: the calls it waits on are among its `tools` (and in its
    `requirements`); `continue_run` goes on from here."""

    is_paused: ClassVar[bool] = True

    event: ClassVar[str] = RunEvent.run_paused.value
    run_id: str
    output: RunOutput

    @property
    def session_id(self) -> str:
        return self.output.session_id

    @property
    def tools(self) -> list[ToolExecution]:
        return self.output.tools  # as Agno's: the run's tools, those it waits on among them

    @property
    def requirements(self) -> list[RunRequirement] | None:
        return self.output.requirements

    @property
    def active_requirements(self) -> list[RunRequirement]:
        return self.output.active_requirements


@dataclass(frozen=True)
class RunContinued(_NoContent):
    """A paused run goes on (`continue_run`), its settled tools first."""

    event: ClassVar[str] = RunEvent.run_continued.value
    run_id: str
    session_id: str
    user_id: str


RunOutputEvent = (
    RunStarted
    | RunContent
    | RunContentCompleted
    | ModelRequestStarted
    | ModelRequestCompleted
    | ModelRetrying
    | ToolCallStarted
    | ToolCallCompleted
    | ToolCallError
    | CustomEvent
    | MemoryUpdated
    | MemoryUpdateStarted
    | MemoryUpdateCompleted
    | SessionSummaryStarted
    | SessionSummaryCompleted
    | RunCompleted
    | RunError
    | RunCancelled
    | RunPaused
    | RunContinued
)

# Agno's class names.
RunStartedEvent = RunStarted
RunContentEvent = RunContent
RunContentCompletedEvent = RunContentCompleted
ModelRequestStartedEvent = ModelRequestStarted
ModelRequestCompletedEvent = ModelRequestCompleted
ToolCallErrorEvent = ToolCallError
RunCompletedEvent = RunCompleted
RunErrorEvent = RunError
RunCancelledEvent = RunCancelled
RunPausedEvent = RunPaused
RunContinuedEvent = RunContinued
ToolCallStartedEvent = ToolCallStarted
ToolCallCompletedEvent = ToolCallCompleted
MemoryUpdateStartedEvent = MemoryUpdateStarted
MemoryUpdateCompletedEvent = MemoryUpdateCompleted
SessionSummaryStartedEvent = SessionSummaryStarted
SessionSummaryCompletedEvent = SessionSummaryCompleted

# What the Python API streams and the app's HTTP streams (the chat, /api/, /os/) leave out: per-request
# detail, and a tool's own events, whose fields need not be JSON.
PYTHON_ONLY_EVENTS = frozenset(
    {
        RunEvent.run_content_completed.value,
        RunEvent.model_request_started.value,
        RunEvent.model_request_completed.value,
        RunEvent.tool_call_error.value,
        RunEvent.custom_event.value,
        RunEvent.run_paused.value,  # no app's agent has a tool that pauses
        RunEvent.run_continued.value,
    }
)


def event_payload(event: Any) -> dict[str, Any]:
    """A JSON-ready dict of a stream event (for SSE frames and logs)."""
    data: dict[str, Any] = {"event": event.event}
    for name, value in vars(event).items():
        if isinstance(value, RunOutput):
            data[name] = {
                "content": value.content,
                "status": RunStatus(value.status).stored,
                "error": value.error,
                "metrics": value.metrics.to_dict(),
            }
        elif is_dataclass(value) and not isinstance(value, type):  # a ToolCallError's tool
            data[name] = asdict(value)
        else:
            data[name] = value
    return data
