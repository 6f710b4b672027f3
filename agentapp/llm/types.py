"""The narrow interface between the run loop and a model provider.

Everything here is plain data: no Django, no SDK types. An adapter turns a
list of `Message` plus `ToolSpec`s into one provider request and gives back a
`ModelResponse`; streamed requests yield `TextDelta`s and end with the same
`ModelResponse`, so both paths are processed identically by the loop.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text exactly as the model produced it

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ValueError when they are not a JSON object."""
        value = json.loads(self.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError("tool arguments must be a JSON object")
        return value

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class MessageMetrics:
    """What the model request that wrote a message cost (Agno's `Message.metrics`): tokens, and the
    request's `duration` and `time_to_first_token` in seconds. Empty on the other messages."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float | None = None
    duration: float | None = None
    time_to_first_token: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Agno's: only what was measured (no zeros, no Nones)."""
        return {name: value for name, value in vars(self).items() if value}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> MessageMetrics:
        known = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in (data or {}).items() if name in known})


@dataclass(frozen=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    # Replayed from an earlier run of the thread (Agno's flag); adapters send it like any other.
    from_history: bool = False
    # Measured, not said: two messages with the same words are the same message.
    metrics: MessageMetrics = field(default_factory=MessageMetrics, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The message as Agno's `to_dict` has it: what was said, and its metrics where measured."""
        data = self.said_dict()
        if metrics := self.metrics.to_dict():
            data["metrics"] = metrics
        return data

    def said_dict(self) -> dict[str, Any]:
        """What was said, as a request carries it (no metrics)."""
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id:
            data["tool_call_id"] = self.tool_call_id
        if self.from_history:
            data["from_history"] = True
        return data


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of an object


@dataclass(frozen=True)
class ResponseFormat:
    """A reply asked for as JSON matching `schema` (a JSON schema named `name`)."""

    name: str
    schema: dict[str, Any]


@runtime_checkable
class StructuredOutputs(Protocol):
    """A model that can be asked for JSON by schema (the provider's `response_format`)."""

    def with_response_format(self, response_format: ResponseFormat) -> Model:
        """This model, asking every request for JSON matching `response_format`."""
        ...


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.total_tokens + other.total_tokens,
        )


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ModelRetrying:
    """Streamed before another attempt at a request that failed with nothing said yet."""

    attempt: int  # the attempt about to be made: 2 is the first retry
    attempts: int  # at most this many in all
    delay: float  # seconds until it is made
    reason: str  # why the last one failed, safe to show a person


StreamItem = TextDelta | ModelRetrying


@dataclass(frozen=True)
class ModelResponse:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    model_id: str = ""
    # Wall-clock seconds (time.time()) so they can be stored as timestamps.
    started_at: float = 0.0
    first_token_at: float | None = None
    ended_at: float = 0.0

    @property
    def duration_ms(self) -> int:
        return round((self.ended_at - self.started_at) * 1000)

    @property
    def ttft_ms(self) -> int | None:
        if self.first_token_at is None:
            return None
        return round((self.first_token_at - self.started_at) * 1000)

    def as_message(self) -> Message:
        return Message(role="assistant", content=self.text, tool_calls=self.tool_calls)


ErrorKind = Literal["timeout", "rate_limit", "server", "connection", "bad_request", "auth", "stream"]


class ModelError(Exception):
    """A model request that failed; `kind` says why, `message` is safe to show a person."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        status_code: int | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status_code = status_code
        self.retry_after = retry_after
        self.should_retry = should_retry  # what the server said (`x-should-retry`), if it said

    @property
    def transient(self) -> bool:
        return self.kind in ("timeout", "rate_limit", "server", "connection", "stream")


@runtime_checkable
class Model(Protocol):
    """What the loop needs of a model. Adapters in this package implement it."""

    id: str
    provider: str  # "openai-responses", "openai-chat", "demo"

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse: ...

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamItem | ModelResponse]: ...

    async def arequest(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> ModelResponse: ...

    def astream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[StreamItem | ModelResponse]: ...
