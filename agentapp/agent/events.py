"""What `Agent.run(stream=True)` yields (the `RunOutputEvent`s, named as Agno names them), and what a
finished run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from agentapp.llm.types import Message


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
    content: str
    run_id: str
    session_id: str
    user_id: str
    status: str  # completed, error, cancelled
    messages: list[Message] = field(default_factory=list)
    metrics: RunMetrics = field(default_factory=RunMetrics)
    error: str | None = None
    memories_used: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunStarted:
    event: ClassVar[str] = "RunStarted"
    run_id: str
    session_id: str
    user_id: str


@dataclass(frozen=True)
class RunContent:
    event: ClassVar[str] = "RunContent"
    run_id: str
    content: str


@dataclass(frozen=True)
class ToolCallStarted:
    event: ClassVar[str] = "ToolCallStarted"
    run_id: str
    tool_call_id: str
    tool_name: str
    tool_args: str


@dataclass(frozen=True)
class ToolCallCompleted:
    event: ClassVar[str] = "ToolCallCompleted"
    run_id: str
    tool_call_id: str
    tool_name: str
    result: str
    is_error: bool


@dataclass(frozen=True)
class MemoryUpdated:
    event: ClassVar[str] = "MemoryUpdated"
    run_id: str
    action: str  # create, update, delete
    memory_id: str
    memory: str


@dataclass(frozen=True)
class RunCompleted:
    event: ClassVar[str] = "RunCompleted"
    run_id: str
    output: RunOutput

    @property
    def content(self) -> str:
        return self.output.content


@dataclass(frozen=True)
class RunError:
    event: ClassVar[str] = "RunError"
    run_id: str
    error: str
    output: RunOutput


@dataclass(frozen=True)
class RunCancelled:
    event: ClassVar[str] = "RunCancelled"
    run_id: str
    output: RunOutput


RunOutputEvent = (
    RunStarted
    | RunContent
    | ToolCallStarted
    | ToolCallCompleted
    | MemoryUpdated
    | RunCompleted
    | RunError
    | RunCancelled
)


def event_payload(event: Any) -> dict[str, Any]:
    """A JSON-ready dict of a stream event (for SSE frames and logs)."""
    data: dict[str, Any] = {"event": event.event}
    for name, value in vars(event).items():
        if isinstance(value, RunOutput):
            data[name] = {
                "content": value.content,
                "status": value.status,
                "error": value.error,
                "metrics": vars(value.metrics),
            }
        else:
            data[name] = value
    return data
