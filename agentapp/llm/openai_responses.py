"""`OpenAIResponses`: the `Model` protocol over the OpenAI Responses API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import aclosing, closing
from typing import Any

from ._openai_common import OpenAIBase, sdk_error
from .types import Message, ModelError, ModelResponse, TextDelta, ToolCall, ToolSpec, Usage


def build_request(messages: Sequence[Message], tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The Responses-specific part of the request body: instructions, input items and tools."""
    instructions = [m.content for m in messages if m.role == "system" and m.content]
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id or "",
                    "output": message.content,
                }
            )
            continue
        if message.role == "user" or message.content:
            items.append({"role": message.role, "content": message.content})
        for call in message.tool_calls:
            items.append(
                {"type": "function_call", "call_id": call.id, "name": call.name, "arguments": call.arguments}
            )
    request: dict[str, Any] = {"input": items, "store": False}
    if instructions:
        request["instructions"] = "\n\n".join(instructions)
    if tools:
        request["tools"] = [
            {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
                "strict": False,
            }
            for tool in tools
        ]
    return request


def _parse_output(response: Any) -> tuple[str, tuple[ToolCall, ...]]:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for item in response.output or ():
        if item.type == "message":
            texts.extend(part.text for part in item.content if part.type == "output_text" and part.text)
        elif item.type == "function_call":
            calls.append(ToolCall(id=item.call_id, name=item.name, arguments=item.arguments or ""))
    return "".join(texts), tuple(calls)


def _parse_usage(response: Any) -> Usage:
    usage = getattr(response, "usage", None)
    if usage is None:
        return Usage()
    input_tokens = usage.input_tokens or 0
    output_tokens = usage.output_tokens or 0
    return Usage(input_tokens, output_tokens, usage.total_tokens or input_tokens + output_tokens)


class _StreamState:
    """Folds Responses stream events into deltas and, at the end, one `ModelResponse`."""

    def __init__(self, model: OpenAIResponses, started_at: float) -> None:
        self.model = model
        self.started_at = started_at
        self.first_token_at: float | None = None
        self.final: Any = None

    def feed(self, event: Any) -> str | None:
        kind = getattr(event, "type", None)
        if kind == "response.output_text.delta":
            if self.first_token_at is None:
                self.first_token_at = time.time()
            return event.delta or None
        if kind == "response.output_item.added":
            if getattr(event.item, "type", None) == "function_call" and self.first_token_at is None:
                self.first_token_at = time.time()
        elif kind in ("response.completed", "response.incomplete"):
            # "incomplete" (e.g. the output token limit was hit) still carries the output so far,
            # exactly as a non-streamed request would return it.
            self.final = event.response
        elif kind == "response.failed":
            error = getattr(event.response, "error", None)
            detail = getattr(error, "message", None) or "the server reported a failure"
            raise ModelError(f"The model stream failed: {self.model._redact(detail)}", kind="stream")
        elif kind == "error":
            detail = getattr(event, "message", None) or "the server sent an error event"
            raise ModelError(f"The model stream failed: {self.model._redact(detail)}", kind="stream")
        return None

    def finish(self) -> ModelResponse:
        if self.final is None:
            raise self.model.incomplete_stream_error()
        text, calls = _parse_output(self.final)
        ended_at = time.time()
        return ModelResponse(
            text=text,
            tool_calls=calls,
            usage=_parse_usage(self.final),
            model_id=self.model.id,
            started_at=self.started_at,
            first_token_at=self.first_token_at if self.first_token_at is not None else ended_at,
            ended_at=ended_at,
        )


class OpenAIResponses(OpenAIBase):
    provider = "openai-responses"

    def _kwargs(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> dict[str, Any]:
        return {**self._request_kwargs(), **build_request(messages, tools)}

    def _response(self, response: Any, started_at: float) -> ModelResponse:
        text, calls = _parse_output(response)
        ended_at = time.time()
        return ModelResponse(
            text=text,
            tool_calls=calls,
            usage=_parse_usage(response),
            model_id=self.id,
            started_at=started_at,
            first_token_at=ended_at,
            ended_at=ended_at,
        )

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        client = self._sync_client()
        try:
            response = client.responses.create(**self._kwargs(messages, tools))
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        return self._response(response, started_at)

    async def arequest(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        client = self._async_client()
        try:
            response = await client.responses.create(**self._kwargs(messages, tools))
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        return self._response(response, started_at)

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> Iterator[TextDelta | ModelResponse]:
        started_at = time.time()
        client = self._sync_client()
        try:
            stream = client.responses.create(**self._kwargs(messages, tools), stream=True)
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        state = _StreamState(self, started_at)
        with closing(self.guarded(stream)) as events:
            for event in events:
                delta = state.feed(event)
                if delta:
                    yield TextDelta(delta)
        yield state.finish()

    async def astream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[TextDelta | ModelResponse]:
        started_at = time.time()
        client = self._async_client()
        try:
            stream = await client.responses.create(**self._kwargs(messages, tools), stream=True)
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        state = _StreamState(self, started_at)
        async with aclosing(self.aguarded(stream)) as events:
            async for event in events:
                delta = state.feed(event)
                if delta:
                    yield TextDelta(delta)
        yield state.finish()
