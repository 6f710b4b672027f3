"""`OpenAIChat`: the `Model` protocol over Chat Completions (OpenAI and compatible servers)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import aclosing, closing
from dataclasses import dataclass, field
from typing import Any

from ._openai_common import OpenAIBase, sdk_error
from .types import Message, ModelResponse, TextDelta, ToolCall, ToolSpec, Usage


def build_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            result.append(
                {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content}
            )
        elif message.role == "assistant" and message.tool_calls:
            result.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments},
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            result.append({"role": message.role, "content": message.content})
    return result


def build_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
        }
        for tool in tools
    ]


def _parse_usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    prompt = usage.prompt_tokens or 0
    completion = usage.completion_tokens or 0
    return Usage(prompt, completion, usage.total_tokens or prompt + completion)


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class _StreamState:
    """Folds chat.completion.chunk objects into deltas and, at the end, one `ModelResponse`."""

    def __init__(self, model: OpenAIChat, started_at: float) -> None:
        self.model = model
        self.started_at = started_at
        self.first_token_at: float | None = None
        self.text: list[str] = []
        self.calls: dict[int, _PartialCall] = {}
        self.usage = Usage()
        self.finished = False

    def _mark_first_token(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.time()

    def feed(self, chunk: Any) -> str | None:
        if getattr(chunk, "usage", None) is not None:
            self.usage = _parse_usage(chunk.usage)
        delta_text: list[str] = []
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue
            if choice.finish_reason is not None:
                self.finished = True
            delta = choice.delta
            if delta is None:
                continue
            if delta.content:
                self._mark_first_token()
                delta_text.append(delta.content)
            for fragment in delta.tool_calls or ():
                self._mark_first_token()
                partial = self.calls.setdefault(fragment.index, _PartialCall())
                if fragment.id:
                    partial.id = fragment.id
                function = fragment.function
                if function is not None:
                    if function.name and not partial.name:
                        partial.name = function.name
                    if function.arguments:
                        partial.arguments.append(function.arguments)
        text = "".join(delta_text)
        self.text.append(text)
        return text or None

    def finish(self) -> ModelResponse:
        if not self.finished:
            raise self.model.incomplete_stream_error()
        calls = tuple(
            ToolCall(
                id=partial.id or f"call_{index}", name=partial.name, arguments="".join(partial.arguments)
            )
            for index, partial in sorted(self.calls.items())
        )
        ended_at = time.time()
        return ModelResponse(
            text="".join(self.text),
            tool_calls=calls,
            usage=self.usage,
            model_id=self.model.id,
            started_at=self.started_at,
            first_token_at=self.first_token_at if self.first_token_at is not None else ended_at,
            ended_at=ended_at,
        )


class OpenAIChat(OpenAIBase):
    provider = "openai-chat"

    def _kwargs(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> dict[str, Any]:
        kwargs = {**self._request_kwargs(), "messages": build_messages(messages)}
        if tools:
            kwargs["tools"] = build_tools(tools)
        return kwargs

    def _stream_kwargs(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> dict[str, Any]:
        return {**self._kwargs(messages, tools), "stream": True, "stream_options": {"include_usage": True}}

    def _response(self, completion: Any, started_at: float) -> ModelResponse:
        text = ""
        calls: list[ToolCall] = []
        if completion.choices:
            message = completion.choices[0].message
            text = message.content or ""
            for call in message.tool_calls or ():
                function = getattr(call, "function", None)
                if function is not None:
                    calls.append(ToolCall(id=call.id, name=function.name, arguments=function.arguments or ""))
        ended_at = time.time()
        return ModelResponse(
            text=text,
            tool_calls=tuple(calls),
            usage=_parse_usage(completion.usage),
            model_id=self.id,
            started_at=started_at,
            first_token_at=ended_at,
            ended_at=ended_at,
        )

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        client = self._sync_client()
        try:
            completion = client.chat.completions.create(**self._kwargs(messages, tools))
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        return self._response(completion, started_at)

    async def arequest(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        client = self._async_client()
        try:
            completion = await client.chat.completions.create(**self._kwargs(messages, tools))
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        return self._response(completion, started_at)

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> Iterator[TextDelta | ModelResponse]:
        started_at = time.time()
        client = self._sync_client()
        try:
            stream = client.chat.completions.create(**self._stream_kwargs(messages, tools))
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        state = _StreamState(self, started_at)
        with closing(self.guarded(stream)) as chunks:
            for chunk in chunks:
                delta = state.feed(chunk)
                if delta:
                    yield TextDelta(delta)
        yield state.finish()

    async def astream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[TextDelta | ModelResponse]:
        started_at = time.time()
        client = self._async_client()
        try:
            stream = await client.chat.completions.create(**self._stream_kwargs(messages, tools))
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        state = _StreamState(self, started_at)
        async with aclosing(self.aguarded(stream)) as chunks:
            async for chunk in chunks:
                delta = state.feed(chunk)
                if delta:
                    yield TextDelta(delta)
        yield state.finish()
