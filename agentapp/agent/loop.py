"""The model/tool loop: ask the model, run the tools it calls, ask again, up to a bound.

It knows nothing of Django or storage. It yields typed events and the caller
decides what to record. `_LoopState` holds the logic; `run_loop` and
`arun_loop` only differ in how they wait for the model and the tools.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from agentapp.llm.types import (
    Message,
    MessageMetrics,
    Model,
    ModelError,
    ModelResponse,
    ModelRetrying,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)

from .tools import Tool

DEFAULT_MAX_TOOL_ROUNDS = 8


@dataclass(frozen=True)
class ModelRequestStarted:
    round: int
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...]
    started_at: float


@dataclass(frozen=True)
class ModelRequestFinished:
    round: int
    messages: tuple[Message, ...]
    response: ModelResponse


@dataclass(frozen=True)
class ModelRequestFailed:
    round: int
    messages: tuple[Message, ...]
    error: ModelError
    started_at: float
    ended_at: float
    partial_text: str


@dataclass(frozen=True)
class ToolExecutionStarted:
    call: ToolCall
    started_at: float


@dataclass(frozen=True)
class ToolExecutionFinished:
    call: ToolCall
    result: str
    is_error: bool
    started_at: float
    ended_at: float
    custom_events: tuple[Any, ...] = ()  # what a generator tool yielded as events (Agno's CustomEvent)


@dataclass(frozen=True)
class LoopFinished:
    content: str
    new_messages: tuple[Message, ...]
    usage: Usage
    model_requests: int
    tool_calls: int
    first_token_at: float | None


@dataclass(frozen=True)
class LoopPaused:
    """The model called tools that wait for the caller (`pending`: to confirm, to fill in, or to run
    themselves); the others of the round ran. The loop stops here; `settle` on a new loop goes on."""

    pending: tuple[ToolCall, ...]
    new_messages: tuple[Message, ...]
    usage: Usage
    model_requests: int
    tool_calls: int
    first_token_at: float | None


@dataclass(frozen=True)
class Settled:
    """A paused call and the caller's word: confirmed (or filled in: `call` has the caller's arguments),
    it runs; otherwise the model gets `note` (why it was rejected, or the result of running it elsewhere)."""

    call: ToolCall
    confirmed: bool
    note: str


@dataclass(frozen=True)
class LoopFailed:
    error: ModelError
    partial_content: str
    new_messages: tuple[Message, ...]
    usage: Usage
    model_requests: int
    tool_calls: int
    first_token_at: float | None


LoopEvent = (
    ModelRequestStarted
    | TextDelta
    | ModelRetrying
    | ModelRequestFinished
    | ModelRequestFailed
    | ToolExecutionStarted
    | ToolExecutionFinished
    | LoopFinished
    | LoopPaused
    | LoopFailed
)


class _LoopState:
    def __init__(self, messages: Sequence[Message], tools: Sequence[Tool], max_tool_rounds: int) -> None:
        self.messages = list(messages)
        self.new_messages: list[Message] = []
        self.tools = {tool.name: tool for tool in tools}
        self.max_tool_rounds = max(1, max_tool_rounds)
        self.round = 0
        self.usage = Usage()
        self.tool_call_count = 0
        self.first_token_at: float | None = None
        self.partial: list[str] = []
        self.done = False
        self.paused: list[ToolCall] = []

    def next_request(self) -> ModelRequestStarted | None:
        if self.done:
            return None
        self.round += 1
        self.partial = []
        # The last round offers no tools, so the model has to answer in words.
        specs = tuple(t.spec for t in self.tools.values()) if self.round < self.max_tool_rounds else ()
        return ModelRequestStarted(self.round, tuple(self.messages), specs, time.time())

    def on_delta(self, delta: TextDelta) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.time()
        self.partial.append(delta.text)

    def on_response(self, request: ModelRequestStarted, response: ModelResponse) -> ModelRequestFinished:
        self.usage = self.usage + response.usage
        if self.first_token_at is None:
            self.first_token_at = response.first_token_at or response.ended_at
        calls = response.tool_calls if request.tools else ()
        message = Message(
            role="assistant", content=response.text, tool_calls=calls, metrics=_request_metrics(response)
        )
        self.messages.append(message)
        self.new_messages.append(message)
        if not calls:
            self.done = True
        return ModelRequestFinished(request.round, request.messages, response)

    def pending_calls(self, finished: ModelRequestFinished) -> tuple[ToolCall, ...]:
        """The calls to run now; those that wait for the caller are set aside (`paused`)."""
        if self.done:
            return ()
        calls = finished.response.tool_calls
        self.paused = [c for c in calls if (t := self.tools.get(c.name)) is not None and t.pauses]
        return tuple(c for c in calls if c not in self.paused)

    def rejected(self, settled: Settled) -> None:
        """What the model is told of a call its caller rejected (no tool ran)."""
        message = Message(role="tool", content=settled.note, tool_call_id=settled.call.id)
        self.messages.append(message)
        self.new_messages.append(message)

    def pause(self) -> LoopPaused | None:
        if not self.paused:
            return None
        return LoopPaused(
            pending=tuple(self.paused),
            new_messages=tuple(self.new_messages),
            usage=self.usage,
            model_requests=self.round,
            tool_calls=self.tool_call_count,
            first_token_at=self.first_token_at,
        )

    def resolve(self, call: ToolCall) -> tuple[Tool | None, dict[str, Any] | None, str | None]:
        """The tool and arguments for a call, or the error text to give back to the model."""
        tool = self.tools.get(call.name)
        if tool is None:
            return None, None, f"Error: there is no tool named {call.name!r}"
        try:
            return tool, call.parsed_arguments(), None
        except ValueError as exc:
            return None, None, f"Error: arguments are not a valid JSON object ({exc})"

    def on_tool_result(
        self, call: ToolCall, outcome: ToolOutcome, started_at: float
    ) -> ToolExecutionFinished:
        self.tool_call_count += 1
        result, is_error, custom_events = outcome
        message = Message(role="tool", content=result, tool_call_id=call.id)
        self.messages.append(message)
        self.new_messages.append(message)
        return ToolExecutionFinished(call, result, is_error, started_at, time.time(), custom_events)

    def failed(
        self, request: ModelRequestStarted, error: ModelError
    ) -> tuple[ModelRequestFailed, LoopFailed]:
        partial = "".join(self.partial)
        if partial:
            # Keep what was streamed before the failure: it was shown to someone.
            self.new_messages.append(Message(role="assistant", content=partial))
        return (
            ModelRequestFailed(
                request.round, request.messages, error, request.started_at, time.time(), partial
            ),
            LoopFailed(
                error=error,
                partial_content=partial,
                new_messages=tuple(self.new_messages),
                usage=self.usage,
                model_requests=self.round,
                tool_calls=self.tool_call_count,
                first_token_at=self.first_token_at,
            ),
        )

    def finished(self) -> LoopFinished:
        content = self.new_messages[-1].content if self.new_messages else ""
        return LoopFinished(
            content=content,
            new_messages=tuple(self.new_messages),
            usage=self.usage,
            model_requests=self.round,
            tool_calls=self.tool_call_count,
            first_token_at=self.first_token_at,
        )


def _request_metrics(response: ModelResponse) -> MessageMetrics:
    """What the request that wrote a reply cost, as Agno's `Message.metrics` has it (seconds)."""
    usage = response.usage
    ttft = response.ttft_ms
    return MessageMetrics(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        duration=max(0.0, response.ended_at - response.started_at),
        time_to_first_token=None if ttft is None else max(0, ttft) / 1000,
    )


# A tool's result text, whether it failed, and the events it yielded.
ToolOutcome = tuple[str, bool, tuple[Any, ...]]


def _call_tool(tool: Tool, arguments: dict[str, Any]) -> ToolOutcome:
    try:
        text, events = tool.call_with_events(arguments)
    except Exception as exc:  # a failing tool is reported to the model, not fatal to the run
        return _failed(exc)
    return text, False, events


async def _acall_tool(tool: Tool, arguments: dict[str, Any]) -> ToolOutcome:
    try:
        text, events = await tool.acall_with_events(arguments)
    except Exception as exc:
        return _failed(exc)
    return text, False, events


def _failed(exc: Exception) -> ToolOutcome:
    return f"Error: {type(exc).__name__}: {exc}", True, ()


def run_loop(
    model: Model,
    messages: Sequence[Message],
    tools: Sequence[Tool] = (),
    *,
    stream: bool = False,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    settle: Sequence[Settled] = (),
) -> Generator[LoopEvent, None, None]:
    """`settle`: a paused run's calls, answered by its caller, dealt with before the model is asked."""
    state = _LoopState(messages, tools, max_tool_rounds)
    for settled in settle:
        if settled.confirmed:
            yield from _sync_call(state, settled.call)
        else:
            state.rejected(settled)
    while (request := state.next_request()) is not None:
        yield request
        try:
            if stream:
                response = None
                for item in model.stream(request.messages, request.tools):
                    if isinstance(item, TextDelta):
                        state.on_delta(item)
                        yield item
                    elif isinstance(item, ModelRetrying):
                        yield item
                    else:
                        response = item
                if response is None:
                    raise ModelError("The model's stream ended without a response", kind="stream")
            else:
                response = model.request(request.messages, request.tools)
        except ModelError as error:
            yield from state.failed(request, error)
            return
        finished = state.on_response(request, response)
        yield finished
        for call in state.pending_calls(finished):
            yield from _sync_call(state, call)
        if (paused := state.pause()) is not None:
            yield paused
            return
    yield state.finished()


def _sync_call(state: _LoopState, call: ToolCall) -> Generator[LoopEvent, None, None]:
    started = time.time()
    yield ToolExecutionStarted(call, started)
    tool, arguments, problem = state.resolve(call)
    outcome: ToolOutcome = (
        (problem or "Error", True, ()) if tool is None else _call_tool(tool, arguments or {})
    )
    yield state.on_tool_result(call, outcome, started)


ToolRunner = Callable[
    [Callable[[Tool, dict[str, Any]], ToolOutcome], Tool, dict[str, Any]], Awaitable[ToolOutcome]
]


async def _to_thread(
    fn: Callable[[Tool, dict[str, Any]], ToolOutcome], tool: Tool, arguments: dict[str, Any]
) -> ToolOutcome:
    return await asyncio.to_thread(fn, tool, arguments)


async def arun_loop(
    model: Model,
    messages: Sequence[Message],
    tools: Sequence[Tool] = (),
    *,
    stream: bool = False,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    tool_runner: ToolRunner = _to_thread,
    settle: Sequence[Settled] = (),
) -> AsyncGenerator[LoopEvent, None]:
    """The same loop for async callers; tools (often blocking) run through `tool_runner`."""
    state = _LoopState(messages, tools, max_tool_rounds)
    for settled in settle:
        if settled.confirmed:
            async for event in _async_call(state, settled.call, tool_runner):
                yield event
        else:
            state.rejected(settled)
    while (request := state.next_request()) is not None:
        yield request
        try:
            if stream:
                response = None
                async for item in model.astream(request.messages, request.tools):
                    if isinstance(item, TextDelta):
                        state.on_delta(item)
                        yield item
                    elif isinstance(item, ModelRetrying):
                        yield item
                    else:
                        response = item
                if response is None:
                    raise ModelError("The model's stream ended without a response", kind="stream")
            else:
                response = await model.arequest(request.messages, request.tools)
        except ModelError as error:
            for event in state.failed(request, error):
                yield event
            return
        finished = state.on_response(request, response)
        yield finished
        for call in state.pending_calls(finished):
            async for event in _async_call(state, call, tool_runner):
                yield event
        if (paused := state.pause()) is not None:
            yield paused
            return
    yield state.finished()


async def _async_call(
    state: _LoopState, call: ToolCall, tool_runner: ToolRunner
) -> AsyncGenerator[LoopEvent, None]:
    started = time.time()
    yield ToolExecutionStarted(call, started)
    tool, arguments, problem = state.resolve(call)
    if tool is None:
        outcome: ToolOutcome = (problem or "Error", True, ())
    elif tool.is_async:
        outcome = await _acall_tool(tool, arguments or {})
    else:
        outcome = await tool_runner(_call_tool, tool, arguments or {})
    yield state.on_tool_result(call, outcome, started)
