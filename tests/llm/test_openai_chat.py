"""OpenAIChat against the loopback fake server, through the real openai SDK."""

from __future__ import annotations

import json

import httpx
import pytest

from agentapp.llm import Message, ModelError, OpenAIChat, ToolCall
from tests.fake_openai import FakeOpenAI
from tests.llm.helpers import MEMORY_TOOL, adapter_factory, arun, collect, drain, free_port, hello

KEY = "sk-test-chat-0123456789abcdef"
make = adapter_factory(OpenAIChat, "llama-test", api_key=KEY)


def test_it_returns_the_text_and_usage_of_a_json_reply(server: FakeOpenAI) -> None:
    server.reply(text="Hello Sarah!", usage=(12, 3))
    response = make(server).request(hello())
    assert response.text == "Hello Sarah!"
    assert response.tool_calls == ()
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (
        12,
        3,
        15,
    )
    assert response.model_id == "llama-test"
    assert response.started_at <= response.first_token_at == response.ended_at
    assert server.requests[0].path == "/v1/chat/completions"


def test_it_streams_text_deltas_that_join_to_the_final_text(server: FakeOpenAI) -> None:
    server.reply(text="one two three four", usage=(20, 4), chunk_delay=0.01)
    deltas, response = collect(make(server), hello())
    assert deltas == ["one ", "two ", "three ", "four"]
    assert "".join(deltas) == response.text == "one two three four"
    assert response.usage.input_tokens == 20 and response.usage.output_tokens == 4
    assert response.first_token_at is not None
    assert response.started_at <= response.first_token_at <= response.ended_at
    body = server.requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_it_reads_tool_calls_from_a_json_reply(server: FakeOpenAI) -> None:
    server.reply(tool_calls=[("add_memory", {"memory": "User likes tea."})])
    response = make(server).request(hello(), (MEMORY_TOOL,))
    assert response.text == ""
    assert response.tool_calls == (
        ToolCall(id="call_1", name="add_memory", arguments=json.dumps({"memory": "User likes tea."})),
    )


def test_it_reassembles_tool_call_arguments_streamed_in_pieces(server: FakeOpenAI) -> None:
    arguments = {"memory": "User's name is Sarah and they prefer email over phone.", "topics": ["name"]}
    server.reply(text="Saving it.", tool_calls=[("add_memory", arguments), ("add_memory", {"memory": "B"})])
    deltas, response = collect(make(server), hello(), (MEMORY_TOOL,))
    assert "".join(deltas) == response.text == "Saving it."
    assert [(call.id, call.name) for call in response.tool_calls] == [
        ("call_1", "add_memory"),
        ("call_2", "add_memory"),
    ]
    assert response.tool_calls[0].parsed_arguments() == arguments
    assert response.tool_calls[1].parsed_arguments() == {"memory": "B"}
    assert response.started_at <= response.first_token_at <= response.ended_at


def test_the_fake_server_really_streams_arguments_in_several_pieces(server: FakeOpenAI) -> None:
    server.reply(tool_calls=[("add_memory", {"memory": "a memory long enough to split"})])
    body = httpx.post(f"{server.base_url}/chat/completions", json={"model": "m", "stream": True}).text
    assert body.count('"tool_calls"') > 2
    assert body.rstrip().endswith("data: [DONE]")


def test_it_sends_messages_in_chat_format(server: FakeOpenAI) -> None:
    server.reply(text="ok")
    make(server, temperature=0.0, extra_body={"top_k": 5}).request(
        [
            Message(role="system", content="You are kind."),
            Message(role="user", content="Hi"),
            Message(role="assistant", content="Hello!"),
        ]
    )
    body = server.requests[0].body
    assert body["model"] == "llama-test"
    assert body["temperature"] == 0.0
    assert body["top_k"] == 5
    assert body["messages"] == [
        {"role": "system", "content": "You are kind."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
    ]
    assert "tools" not in body
    assert "stream" not in body


def test_it_maps_tool_calls_and_tool_results_to_chat_messages(server: FakeOpenAI) -> None:
    server.reply(text="Got it.")
    call = ToolCall(id="call_9", name="add_memory", arguments='{"memory": "x"}')
    messages = [
        Message(role="user", content="I like tea."),
        Message(role="assistant", content="", tool_calls=(call,)),
        Message(role="tool", content="Memory saved.", tool_call_id="call_9"),
    ]
    make(server).request(messages, (MEMORY_TOOL,))
    body = server.requests[0].body
    assert body["messages"] == [
        {"role": "user", "content": "I like tea."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "add_memory", "arguments": '{"memory": "x"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": "Memory saved."},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "add_memory",
                "description": "Store a fact about the user.",
                "parameters": MEMORY_TOOL.parameters,
            },
        }
    ]


def test_a_server_error_becomes_a_server_model_error(server: FakeOpenAI) -> None:
    server.reply(status=500, error="boom")
    with pytest.raises(ModelError) as caught:
        make(server).request(hello())
    assert caught.value.kind == "server"
    assert caught.value.status_code == 500
    assert caught.value.message == "Model server error (HTTP 500): boom"


def test_a_rate_limit_carries_the_retry_after_seconds(server: FakeOpenAI) -> None:
    server.reply(status=429, error="slow down", headers={"retry-after": "1.5"})
    with pytest.raises(ModelError) as caught:
        make(server).request(hello())
    assert caught.value.kind == "rate_limit"
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 1.5


def test_an_unknown_model_is_a_bad_request(server: FakeOpenAI) -> None:
    server.reply(status=404, error="The model `llama-test` does not exist")
    with pytest.raises(ModelError) as caught:
        make(server).request(hello())
    assert caught.value.kind == "bad_request"
    assert not caught.value.transient
    assert "does not exist" in caught.value.message


def test_a_slow_server_becomes_a_timeout_error(server: FakeOpenAI) -> None:
    server.reply(text="too late", delay=1.5)
    with pytest.raises(ModelError) as caught:
        make(server, timeout=0.3).request(hello())
    assert caught.value.kind == "timeout"
    assert caught.value.message == "Model request timed out after 0.3s"


def test_a_refused_connection_becomes_a_connection_error() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelError) as caught:
        OpenAIChat("llama-test", api_key=KEY, base_url=base_url, max_retries=0).request(hello())
    assert caught.value.kind == "connection"
    assert base_url in caught.value.message


def test_a_stream_cut_in_the_middle_becomes_a_stream_error(server: FakeOpenAI) -> None:
    server.reply(text="a b c d e f", cut_after=2)
    received: list[str] = []
    with pytest.raises(ModelError) as caught:
        for item in make(server).stream(hello()):
            received.append(item.text)
    assert caught.value.kind == "stream"
    assert received == ["a ", "b "]


def test_a_stream_that_ends_without_a_finish_reason_is_a_stream_error(server: FakeOpenAI) -> None:
    server.reply(text="a b c d e f", cut_after=3, cut_cleanly=True)
    with pytest.raises(ModelError) as caught:
        list(make(server).stream(hello()))
    assert caught.value.kind == "stream"
    assert "ended before" in caught.value.message


def test_an_error_chunk_in_the_stream_becomes_a_stream_error(server: FakeOpenAI) -> None:
    server.reply(text="partial", stream_error="model overloaded")
    with pytest.raises(ModelError) as caught:
        list(make(server).stream(hello()))
    assert caught.value.kind == "stream"
    assert "model overloaded" in caught.value.message


def test_the_api_key_never_appears_in_error_messages(server: FakeOpenAI) -> None:
    server.reply(status=403, error=f"Key {KEY} may not use this model")
    with pytest.raises(ModelError) as caught:
        make(server).request(hello())
    assert caught.value.kind == "auth"
    assert KEY not in caught.value.message and KEY not in str(caught.value)
    assert "may not use this model" in caught.value.message


def test_a_key_of_any_shape_is_kept_out_of_error_messages(server: FakeOpenAI) -> None:
    secret = "local-gateway-token-42"
    server.reply(status=500, error=f"upstream rejected token {secret}")
    with pytest.raises(ModelError) as caught:
        make(server, api_key=secret).request(hello())
    assert secret not in caught.value.message
    assert "upstream rejected token ***" in caught.value.message


def test_a_short_key_does_not_mangle_the_rest_of_an_error_message(server: FakeOpenAI) -> None:
    server.reply(status=500, error="bad key k; check the kettle")
    with pytest.raises(ModelError) as caught:
        make(server, api_key="k").request(hello())
    assert caught.value.message == "Model server error (HTTP 500): bad key ***; check the kettle"


def test_it_exposes_its_identity(server: FakeOpenAI) -> None:
    model = make(server)
    assert (model.id, model.provider, model.is_offline_demo) == ("llama-test", "openai-chat", False)
    assert model.base_url == server.base_url


def test_the_async_request_returns_the_text(server: FakeOpenAI) -> None:
    server.reply(text="async hello", usage=(2, 2))
    model = make(server)
    response = arun(model, lambda: model.arequest(hello()))
    assert response.text == "async hello"
    assert response.usage.total_tokens == 4


def test_the_async_stream_yields_deltas_then_the_response(server: FakeOpenAI) -> None:
    server.reply(text="streamed async reply", tool_calls=[("add_memory", {"memory": "m" * 30})])
    model = make(server)
    items = arun(model, lambda: drain(model.astream(hello(), (MEMORY_TOOL,))))
    assert [item.text for item in items[:-1]] == ["streamed ", "async ", "reply"]
    assert items[-1].text == "streamed async reply"
    assert items[-1].tool_calls[0].parsed_arguments() == {"memory": "m" * 30}


def test_the_async_stream_reports_a_cut_as_a_stream_error(server: FakeOpenAI) -> None:
    server.reply(text="a b c d e f", cut_after=2)
    model = make(server)
    with pytest.raises(ModelError) as caught:
        arun(model, lambda: drain(model.astream(hello())))
    assert caught.value.kind == "stream"
