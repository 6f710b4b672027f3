"""`OpenAIResponses`: the `Model` protocol over the OpenAI Responses API."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ._openai_base import OpenAIBase
from ._openai_wire import as_list, as_str, get, parse_usage
from .types import Message, ModelError, ModelResponse, ResponseFormat, ToolCall, ToolSpec, Usage


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


def _parse_output(response: dict[str, Any]) -> tuple[str, tuple[ToolCall, ...]]:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for item in as_list(response.get("output")):
        kind = get(item, "type")
        if kind == "message":
            parts = as_list(get(item, "content"))
            texts.extend(as_str(get(part, "text")) for part in parts if get(part, "type") == "output_text")
        elif kind == "function_call":
            call_id = as_str(get(item, "call_id")) or f"call_{len(calls)}"
            calls.append(ToolCall(call_id, as_str(get(item, "name")), as_str(get(item, "arguments"))))
    return "".join(texts), tuple(calls)


def _parse_usage(usage: Any) -> Usage:
    return parse_usage(usage, "input_tokens", "output_tokens")


class _StreamState:
    """Folds Responses stream events into deltas and, at the end, one `ModelResponse`."""

    def __init__(self, model: OpenAIResponses, started_at: float) -> None:
        self.model = model
        self.started_at = started_at
        self.first_token_at: float | None = None
        self.final: dict[str, Any] | None = None

    def feed(self, event: dict[str, Any]) -> str | None:
        kind = event.get("type")
        if kind == "response.output_text.delta":
            if self.first_token_at is None:
                self.first_token_at = time.time()
            return as_str(event.get("delta")) or None
        if kind == "response.output_item.added":
            if get(event.get("item"), "type") == "function_call" and self.first_token_at is None:
                self.first_token_at = time.time()
        elif kind in ("response.completed", "response.incomplete"):
            # "incomplete" (e.g. the output token limit was hit) still carries the output so far,
            # exactly as a non-streamed request would return it.
            self.final = self.model._readable_payload(event.get("response"))
        elif kind == "response.failed":
            error = get(event.get("response"), "error")
            detail = as_str(get(error, "message")) or "the server reported a failure"
            raise ModelError(f"The model stream failed: {self.model._redact(detail)}", kind="stream")
        elif kind == "error":
            detail = as_str(event.get("message")) or "the server sent an error event"
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
            usage=_parse_usage(self.final.get("usage")),
            model_id=self.model.id,
            started_at=self.started_at,
            first_token_at=self.first_token_at if self.first_token_at is not None else ended_at,
            ended_at=ended_at,
        )


class OpenAIResponses(OpenAIBase):
    provider = "openai-responses"
    path = "/responses"

    def _format_fields(self, response_format: ResponseFormat) -> dict[str, Any]:
        shape = {"type": "json_schema", "name": response_format.name, "schema": response_format.schema}
        return {"text": {"format": {**shape, "strict": False}}}

    def _body(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, stream: bool
    ) -> dict[str, Any]:
        fields = build_request(messages, tools)
        if stream:
            fields["stream"] = True
        return self._request_body(fields)

    def _response(self, data: dict[str, Any], started_at: float) -> ModelResponse:
        text, calls = _parse_output(data)
        ended_at = time.time()
        return ModelResponse(
            text=text,
            tool_calls=calls,
            usage=_parse_usage(data.get("usage")),
            model_id=self.id,
            started_at=started_at,
            first_token_at=ended_at,
            ended_at=ended_at,
        )

    def _stream_state(self, started_at: float) -> _StreamState:
        return _StreamState(self, started_at)
