"""What both OpenAI adapters put on the wire, and what they make of replies that are not what they expect.

The adapters post plain JSON through the SDK's generic `post()`, so the body the loopback server
records must be exactly the one they built, and a reply body is read as plain JSON, defensively.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from agentapp.llm import Message, ModelError, ModelResponse, TextDelta, ToolCall, ToolSpec
from tests import fake_openai as fake_module
from tests.fake_openai import FakeOpenAI

UNREADABLE = "The model server sent a response that could not be read"
UNREADABLE_DATA = "the model server sent data that could not be read"
CALL = ToolCall(id="call_9", name="lookup", arguments='{"query": {"text": "tea"}}')
MESSAGES = [
    Message(role="system", content="Be brief."),
    Message(role="user", content="What do I like?"),
    Message(role="assistant", content="", tool_calls=(CALL,)),
    Message(role="tool", content="Tea.", tool_call_id="call_9"),
    Message(role="user", content="Thanks"),
]
SCHEMA = {
    "type": "object",
    "properties": {
        "query": {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["text"],
        }
    },
    "required": ["query"],
}
TOOL = ToolSpec(name="lookup", description="Look up a memory.", parameters=SCHEMA)
EXTRA_BODY = {"top_k": 5, "metadata": {"origin": "tests"}}

CHAT_BODY = {
    "model": "gpt-test",
    "temperature": 0.3,
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What do I like?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": CALL.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": "Tea."},
        {"role": "user", "content": "Thanks"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {"name": "lookup", "description": "Look up a memory.", "parameters": SCHEMA},
        }
    ],
    **EXTRA_BODY,
}
RESPONSES_BODY = {
    "model": "gpt-test",
    "temperature": 0.3,
    "instructions": "Be brief.",
    "input": [
        {"role": "user", "content": "What do I like?"},
        {"type": "function_call", "call_id": "call_9", "name": "lookup", "arguments": CALL.arguments},
        {"type": "function_call_output", "call_id": "call_9", "output": "Tea."},
        {"role": "user", "content": "Thanks"},
    ],
    "store": False,
    "tools": [
        {
            "type": "function",
            "name": "lookup",
            "description": "Look up a memory.",
            "parameters": SCHEMA,
            "strict": False,
        }
    ],
    **EXTRA_BODY,
}
STREAM_FIELDS = {
    "chat": {"stream": True, "stream_options": {"include_usage": True}},
    "responses": {"stream": True},
}


def _expected_body(adapter: str, *, stream: bool) -> dict[str, Any]:
    body = CHAT_BODY if adapter == "chat" else RESPONSES_BODY
    return {**body, **STREAM_FIELDS[adapter]} if stream else body


@pytest.fixture
def reply_with(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Makes the fake server answer a non-streamed request with this JSON value instead of its own."""

    def install(value: Any) -> None:
        monkeypatch.setattr(fake_module._Render, "json", lambda render: value)

    return install


@pytest.fixture
def raw_reply(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Makes the fake server answer 200 with these exact bytes and content type."""

    def install(data: bytes, content_type: str) -> None:
        def send(handler: Any, status: int, payload: Any, headers: dict[str, str]) -> None:
            handler.send_response(200)
            handler.send_header("content-type", content_type)
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

        monkeypatch.setattr(fake_module._Handler, "_send_json", send)

    return install


@pytest.fixture
def stream_with(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Makes the fake server stream these SSE `data:` payloads (JSON values) instead of its own."""

    def install(*payloads: Any) -> None:
        def events(render: Any) -> Iterator[str]:
            for payload in payloads:
                yield f"data: {json.dumps(payload)}\n\n"
            yield "data: [DONE]\n\n"

        monkeypatch.setattr(fake_module._Render, "events", events)

    return install


def _tokens(response: ModelResponse) -> tuple[int, int, int]:
    return response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens


def _run(model: Any, messages: list[Message], *, stream: bool, tools: tuple[ToolSpec, ...] = ()) -> Any:
    if stream:
        items = list(model.stream(messages, tools))
        assert all(isinstance(item, TextDelta) for item in items[:-1])
        return items[-1]
    return model.request(messages, tools)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_the_body_on_the_wire_is_exactly_the_one_built(
    make_model: Any, fake_openai: FakeOpenAI, adapter: str, stream: bool
) -> None:
    fake_openai.reply(text="You like tea.")
    model = make_model(adapter, temperature=0.3, extra_body=EXTRA_BODY)
    assert _run(model, MESSAGES, stream=stream, tools=(TOOL,)).text == "You like tea."
    (request,) = fake_openai.requests
    assert request.path == f"/v1{model.path}"
    assert request.body == _expected_body(adapter, stream=stream)
    assert request.headers["authorization"] == "Bearer sk-test-secret-123"
    assert request.headers["content-type"] == "application/json"


def test_extra_body_is_merged_last_so_it_can_override_any_field(
    make_model: Any, fake_openai: FakeOpenAI, adapter: str
) -> None:
    fake_openai.reply(text="ok")
    make_model(adapter, temperature=0.3, extra_body={"temperature": 0.9, "model": "other"}).request(MESSAGES)
    body = fake_openai.requests[0].body
    assert (body["temperature"], body["model"]) == (0.9, "other")


@pytest.mark.parametrize("value", [[{"choices": []}], "just a string", 42, None], ids=repr)
def test_a_reply_that_is_not_a_json_object_cannot_be_read(
    make_model: Any, fake_openai: FakeOpenAI, reply_with: Any, adapter: str, value: Any
) -> None:
    fake_openai.reply(text="unused")
    reply_with(value)
    with pytest.raises(ModelError) as caught:
        make_model(adapter).request(MESSAGES)
    assert (caught.value.kind, caught.value.message) == ("server", UNREADABLE)
    assert caught.value.transient


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(b"<html>Bad gateway</html>", "application/json"), (b"Bad gateway", "text/html"), (b"", "")],
    ids=["invalid-json", "html", "empty"],
)
def test_a_reply_body_that_is_not_json_cannot_be_read(
    make_model: Any, fake_openai: FakeOpenAI, raw_reply: Any, adapter: str, data: bytes, content_type: str
) -> None:
    fake_openai.reply(text="unused")
    raw_reply(data, content_type)
    with pytest.raises(ModelError) as caught:
        make_model(adapter).request(MESSAGES)
    assert (caught.value.kind, caught.value.message) == ("server", UNREADABLE)


def test_the_async_request_reports_an_unreadable_reply_the_same_way(
    make_model: Any, fake_openai: FakeOpenAI, reply_with: Any, adapter: str
) -> None:
    fake_openai.reply(text="unused")
    reply_with(["not", "an", "object"])
    model = make_model(adapter)

    async def main() -> None:
        try:
            await model.arequest(MESSAGES)
        finally:
            await model.aclose()

    with pytest.raises(ModelError) as caught:
        asyncio.run(main())
    assert (caught.value.kind, caught.value.message) == ("server", UNREADABLE)


@pytest.mark.parametrize("payload", [[1, 2], "text", None], ids=repr)
def test_a_streamed_payload_that_is_not_a_json_object_is_a_stream_error(
    make_model: Any, fake_openai: FakeOpenAI, stream_with: Any, adapter: str, payload: Any
) -> None:
    fake_openai.reply(text="unused")
    stream_with(payload)
    with pytest.raises(ModelError) as caught:
        list(make_model(adapter).stream(MESSAGES))
    assert caught.value.kind == "stream"
    assert caught.value.message == f"The model stream failed: {UNREADABLE_DATA}"


def test_a_sparse_chat_completion_is_read_without_error(
    make_model: Any, fake_openai: FakeOpenAI, reply_with: Any
) -> None:
    fake_openai.reply(text="unused")
    reply_with(
        {
            "choices": [
                {
                    "message": {
                        "content": None,
                        "tool_calls": [
                            {"function": {"name": "lookup", "arguments": None}},
                            {"id": "call_7", "function": None},
                        ],
                    }
                }
            ],
            "usage": None,
        }
    )
    response = make_model("chat").request(MESSAGES)
    assert response.text == ""
    assert response.tool_calls == (ToolCall(id="call_0", name="lookup", arguments=""),)
    assert _tokens(response) == (0, 0, 0)


def test_a_sparse_chat_stream_is_read_without_error(
    make_model: Any, fake_openai: FakeOpenAI, stream_with: Any
) -> None:
    fake_openai.reply(text="unused")
    stream_with(
        {"choices": None},
        {"choices": [{"delta": None}]},
        {"choices": [{"index": None, "delta": {"content": "Hi", "tool_calls": None}}]},
        {"choices": [{"delta": {"tool_calls": [{"function": {"name": "lookup"}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}}]},
        {"choices": [{"index": 1, "delta": {"content": "ignored: not the first choice"}}]},
        {"choices": [{"finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": None}},
    )
    items = list(make_model("chat").stream(MESSAGES))
    assert items[:-1] == [TextDelta("Hi")]
    response = items[-1]
    assert isinstance(response, ModelResponse)
    assert response.text == "Hi"
    assert response.tool_calls == (ToolCall(id="call_0", name="lookup", arguments="{}"),)
    assert _tokens(response) == (3, 0, 3)


def test_a_sparse_responses_reply_is_read_without_error(
    make_model: Any, fake_openai: FakeOpenAI, reply_with: Any
) -> None:
    fake_openai.reply(text="unused")
    reply_with(
        {
            "output": [
                {"type": "message", "content": [{"type": "output_text", "text": None}, None]},
                {
                    "type": "message",
                    "content": [{"type": "output_text", "text": "Hello"}, {"type": "refusal"}],
                },
                {"type": "function_call", "name": "lookup", "arguments": None},
                {"type": "reasoning"},
                None,
            ],
            "usage": {"input_tokens": 4, "output_tokens": 2, "total_tokens": None},
        }
    )
    response = make_model("responses").request(MESSAGES)
    assert response.text == "Hello"
    assert response.tool_calls == (ToolCall(id="call_0", name="lookup", arguments=""),)
    assert _tokens(response) == (4, 2, 6)


def test_a_sparse_responses_stream_is_read_without_error(
    make_model: Any, fake_openai: FakeOpenAI, stream_with: Any
) -> None:
    fake_openai.reply(text="unused")
    stream_with(
        {"type": "response.created"},
        {"type": "response.output_text.delta", "delta": None},
        {"type": "response.output_text.delta", "delta": "Hi"},
        {"type": "response.output_item.added", "item": None},
        {"type": "some.future.event", "payload": [1]},
        {"type": "response.completed", "response": {"output": None, "usage": None}},
    )
    items = list(make_model("responses").stream(MESSAGES))
    assert items[:-1] == [TextDelta("Hi")]
    assert (items[-1].text, items[-1].tool_calls, items[-1].usage.total_tokens) == ("", (), 0)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "response.failed", "response": {"error": None}}, "the server reported a failure"),
        ({"type": "response.failed", "response": None}, "the server reported a failure"),
        ({"type": "error", "message": None}, "the server sent an error event"),
        ({"type": "error", "code": "overloaded", "message": "Try later"}, "Try later"),
        ({"type": "response.completed", "response": None}, UNREADABLE_DATA),
    ],
)
def test_responses_stream_failures_without_details_are_stream_errors(
    make_model: Any, fake_openai: FakeOpenAI, stream_with: Any, event: dict[str, Any], message: str
) -> None:
    fake_openai.reply(text="unused")
    stream_with({"type": "response.output_text.delta", "delta": "Hi"}, event)
    with pytest.raises(ModelError) as caught:
        list(make_model("responses").stream(MESSAGES))
    assert (caught.value.kind, caught.value.message) == ("stream", f"The model stream failed: {message}")
