"""`OpenAIChat`: the `Model` protocol over Chat Completions (OpenAI and compatible servers)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._openai_base import OpenAIBase
from ._openai_wire import as_int, as_list, as_str, get, parse_usage
from .types import Message, ModelResponse, ResponseFormat, ToolCall, ToolSpec, Usage


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
    return parse_usage(usage, "prompt_tokens", "completion_tokens")


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class _StreamState:
    """Folds chat.completion.chunk payloads into deltas and, at the end, one `ModelResponse`."""

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

    def feed(self, chunk: dict[str, Any]) -> str | None:
        if chunk.get("usage") is not None:
            self.usage = _parse_usage(chunk["usage"])
        delta_text: list[str] = []
        for choice in as_list(chunk.get("choices")):
            if as_int(get(choice, "index")) != 0:
                continue
            if get(choice, "finish_reason") is not None:
                self.finished = True
            delta = get(choice, "delta")
            content = as_str(get(delta, "content"))
            if content:
                self._mark_first_token()
                delta_text.append(content)
            for fragment in as_list(get(delta, "tool_calls")):
                self._mark_first_token()
                self._add_fragment(fragment)
        text = "".join(delta_text)
        self.text.append(text)
        return text or None

    def _add_fragment(self, fragment: Any) -> None:
        partial = self.calls.setdefault(as_int(get(fragment, "index")), _PartialCall())
        call_id = as_str(get(fragment, "id"))
        if call_id:
            partial.id = call_id
        function = get(fragment, "function")
        name = as_str(get(function, "name"))
        if name and not partial.name:
            partial.name = name
        arguments = as_str(get(function, "arguments"))
        if arguments:
            partial.arguments.append(arguments)

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


def _parse_calls(message: Any) -> tuple[ToolCall, ...]:
    calls: list[ToolCall] = []
    for index, call in enumerate(as_list(get(message, "tool_calls"))):
        function = get(call, "function")
        if isinstance(function, dict):
            call_id = as_str(get(call, "id")) or f"call_{index}"
            calls.append(ToolCall(call_id, as_str(function.get("name")), as_str(function.get("arguments"))))
    return tuple(calls)


class OpenAIChat(OpenAIBase):
    provider = "openai-chat"
    path = "/chat/completions"

    def _format_fields(self, response_format: ResponseFormat) -> dict[str, Any]:
        schema = {"name": response_format.name, "schema": response_format.schema, "strict": False}
        return {"response_format": {"type": "json_schema", "json_schema": schema}}

    def _body(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, stream: bool
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"messages": build_messages(messages)}
        if tools:
            fields["tools"] = build_tools(tools)
        if stream:
            fields.update(stream=True, stream_options={"include_usage": True})
        return self._request_body(fields)

    def _response(self, data: dict[str, Any], started_at: float) -> ModelResponse:
        choices = as_list(data.get("choices"))
        message = get(choices[0], "message") if choices else None
        ended_at = time.time()
        return ModelResponse(
            text=as_str(get(message, "content")),
            tool_calls=_parse_calls(message),
            usage=_parse_usage(data.get("usage")),
            model_id=self.id,
            started_at=started_at,
            first_token_at=ended_at,
            ended_at=ended_at,
        )

    def _stream_state(self, started_at: float) -> _StreamState:
        return _StreamState(self, started_at)
