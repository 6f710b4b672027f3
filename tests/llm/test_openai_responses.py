"""OpenAIResponses against the loopback fake server, through the real openai SDK."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from agentapp.llm import Message, ModelError, ModelResponse, OpenAIResponses, ToolCall
from tests.fake_openai import FakeOpenAI, Reply
from tests.llm.helpers import MEMORY_TOOL, adapter_factory, arun, collect, drain, free_port, hello

KEY = "sk-test-responses-0123456789abcdef"
make = adapter_factory(OpenAIResponses, "gpt-test", api_key=KEY)


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
    assert response.model_id == "gpt-test"
    assert response.started_at <= response.first_token_at == response.ended_at


def test_it_streams_text_deltas_that_join_to_the_final_text(server: FakeOpenAI) -> None:
    server.reply(text="one two three four", usage=(20, 4), chunk_delay=0.01)
    deltas, response = collect(make(server), hello())
    assert deltas == ["one ", "two ", "three ", "four"]
    assert "".join(deltas) == response.text == "one two three four"
    assert response.usage.input_tokens == 20 and response.usage.output_tokens == 4
    assert response.first_token_at is not None
    assert response.started_at <= response.first_token_at <= response.ended_at
    assert server.requests[0].body["stream"] is True


def test_it_reads_tool_calls_from_a_json_reply(server: FakeOpenAI) -> None:
    server.reply(text="Saving.", tool_calls=[("add_memory", {"memory": "User likes tea."})])
    response = make(server).request(hello(), (MEMORY_TOOL,))
    assert response.text == "Saving."
    assert response.tool_calls == (
        ToolCall(id="call_1", name="add_memory", arguments=json.dumps({"memory": "User likes tea."})),
    )


def test_it_reassembles_tool_call_arguments_streamed_in_pieces(server: FakeOpenAI) -> None:
    arguments = {"memory": "User's name is Sarah and they prefer email over phone.", "topics": ["name"]}
    server.reply(tool_calls=[("add_memory", arguments), ("add_memory", {"memory": "Second."})])
    deltas, response = collect(make(server), hello(), (MEMORY_TOOL,))
    assert deltas == []
    assert [call.id for call in response.tool_calls] == ["call_1", "call_2"]
    assert response.tool_calls[0].parsed_arguments() == arguments
    assert response.tool_calls[1].parsed_arguments() == {"memory": "Second."}
    assert response.started_at <= response.first_token_at <= response.ended_at


def test_the_fake_server_really_streams_arguments_in_several_pieces(server: FakeOpenAI) -> None:
    server.reply(tool_calls=[("add_memory", {"memory": "a memory long enough to split"})])
    body = httpx.post(f"{server.base_url}/responses", json={"model": "m", "input": [], "stream": True}).text
    assert body.count("event: response.function_call_arguments.delta") > 2
    assert body.rstrip().endswith("}") and "event: response.completed" in body


def test_it_sends_system_messages_as_instructions_and_the_rest_as_input_items(server: FakeOpenAI) -> None:
    server.reply(text="ok")
    messages = [
        Message(role="system", content="You are kind."),
        Message(role="user", content="Hi"),
        Message(role="assistant", content="Hello!"),
        Message(role="system", content="Memories: none."),
        Message(role="user", content="Bye"),
    ]
    make(server, temperature=0.2).request(messages)
    body = server.requests[0].body
    assert body["model"] == "gpt-test"
    assert body["store"] is False
    assert body["temperature"] == 0.2
    assert body["instructions"] == "You are kind.\n\nMemories: none."
    assert body["input"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"},
    ]
    assert "tools" not in body


def test_it_maps_tool_results_to_function_call_output_items(server: FakeOpenAI) -> None:
    server.reply(text="Got it.")
    call = ToolCall(id="call_9", name="add_memory", arguments='{"memory": "x"}')
    messages = [
        Message(role="user", content="I like tea."),
        Message(role="assistant", content="Let me save that.", tool_calls=(call,)),
        Message(role="tool", content="Memory saved.", tool_call_id="call_9"),
    ]
    make(server).request(messages, (MEMORY_TOOL,))
    body = server.requests[0].body
    assert "instructions" not in body
    assert body["input"] == [
        {"role": "user", "content": "I like tea."},
        {"role": "assistant", "content": "Let me save that."},
        {"type": "function_call", "call_id": "call_9", "name": "add_memory", "arguments": '{"memory": "x"}'},
        {"type": "function_call_output", "call_id": "call_9", "output": "Memory saved."},
    ]


def test_it_sends_tools_as_non_strict_functions(server: FakeOpenAI) -> None:
    server.reply(text="ok")
    make(server, extra_body={"reasoning": {"effort": "low"}}).request(hello(), (MEMORY_TOOL,))
    body = server.requests[0].body
    assert body["tools"] == [
        {
            "type": "function",
            "name": "add_memory",
            "description": "Store a fact about the user.",
            "parameters": MEMORY_TOOL.parameters,
            "strict": False,
        }
    ]
    assert body["reasoning"] == {"effort": "low"}
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_a_server_error_becomes_a_server_model_error(server: FakeOpenAI) -> None:
    server.reply(status=500, error="boom")
    with pytest.raises(ModelError) as caught:
        make(server).request(hello())
    assert caught.value.kind == "server"
    assert caught.value.status_code == 500
    assert caught.value.message == "Model server error (HTTP 500): boom"
    assert caught.value.transient


def test_a_rate_limit_carries_the_retry_after_seconds(server: FakeOpenAI) -> None:
    server.reply(status=429, error="slow down", headers={"retry-after": "7"})
    with pytest.raises(ModelError) as caught:
        make(server).request(hello())
    assert caught.value.kind == "rate_limit"
    assert caught.value.retry_after == 7.0
    assert "slow down" in caught.value.message


def test_the_sdk_retries_as_many_times_as_max_retries_allows(server: FakeOpenAI) -> None:
    server.reply(status=429, error="slow down", headers={"retry-after": "0.01"})
    server.reply(text="finally")
    assert make(server, max_retries=1).request(hello()).text == "finally"
    assert len(server.requests) == 2


def test_a_slow_server_becomes_a_timeout_error(server: FakeOpenAI) -> None:
    server.reply(text="too late", delay=1.5)
    with pytest.raises(ModelError) as caught:
        make(server, timeout=0.3).request(hello())
    assert caught.value.kind == "timeout"
    assert caught.value.message == "Model request timed out after 0.3s"


def test_a_refused_connection_becomes_a_connection_error() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    model = OpenAIResponses("gpt-test", api_key=KEY, base_url=base_url, max_retries=0)
    with pytest.raises(ModelError) as caught:
        model.request(hello())
    assert caught.value.kind == "connection"
    assert caught.value.message.startswith(f"Could not connect to the model server at {base_url}")


def test_a_stream_cut_in_the_middle_becomes_a_stream_error(server: FakeOpenAI) -> None:
    server.reply(text="a b c d e f", cut_after=2)
    received: list[str] = []
    with pytest.raises(ModelError) as caught:
        for item in make(server).stream(hello()):
            received.append(item.text)
    assert caught.value.kind == "stream"
    assert received == ["a ", "b "]


def test_a_stream_that_ends_without_a_completed_event_is_a_stream_error(server: FakeOpenAI) -> None:
    server.reply(text="a b c d e f", cut_after=3, cut_cleanly=True)
    with pytest.raises(ModelError) as caught:
        list(make(server).stream(hello()))
    assert caught.value.kind == "stream"
    assert "ended before" in caught.value.message


def test_a_failed_event_in_the_stream_becomes_a_stream_error(server: FakeOpenAI) -> None:
    server.reply(text="partial answer", stream_error="model overloaded")
    with pytest.raises(ModelError) as caught:
        list(make(server).stream(hello()))
    assert caught.value.kind == "stream"
    assert "model overloaded" in caught.value.message


def test_an_http_error_before_streaming_keeps_its_own_kind(server: FakeOpenAI) -> None:
    server.reply(status=503, error="maintenance")
    with pytest.raises(ModelError) as caught:
        list(make(server).stream(hello()))
    assert caught.value.kind == "server"
    assert caught.value.status_code == 503


def test_the_api_key_never_appears_in_error_messages(server: FakeOpenAI) -> None:
    server.reply(status=401, error=f"Incorrect API key provided: {KEY}.")
    server.reply(status=400, error=f"bad key {KEY[:-4]}wxyz in request")
    model = make(server)
    errors = []
    for _ in range(2):
        with pytest.raises(ModelError) as caught:
            model.request(hello())
        errors.append(caught.value)
    assert [error.kind for error in errors] == ["auth", "bad_request"]
    for error in errors:
        assert KEY not in error.message and KEY not in str(error)
        assert KEY[:20] not in error.message
    assert "Incorrect API key provided" in errors[0].message


def test_a_missing_api_key_for_openai_itself_is_an_auth_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    model = OpenAIResponses("gpt-test")
    with pytest.raises(ModelError) as caught:
        model.request(hello())
    assert caught.value.kind == "auth"
    assert caught.value.message.startswith("OPENAI_API_KEY is not set")


def test_it_exposes_its_identity_and_the_effective_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    model = OpenAIResponses("gpt-test")
    assert (model.id, model.provider, model.is_offline_demo) == ("gpt-test", "openai-responses", False)
    assert model.base_url == "https://api.openai.com/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1/")
    assert OpenAIResponses("gpt-test").base_url == "http://localhost:8000/v1"
    assert OpenAIResponses("gpt-test", base_url="http://other/v1").base_url == "http://other/v1"
    assert OpenAIResponses("gpt-test", base_url="https://u:pw@proxy/v1").base_url == "https://proxy/v1"


def test_the_async_request_returns_the_text(server: FakeOpenAI) -> None:
    server.reply(text="async hello", tool_calls=[("add_memory", {"memory": "m"})])
    model = make(server)
    response = arun(model, lambda: model.arequest(hello(), (MEMORY_TOOL,)))
    assert response.text == "async hello"
    assert [call.name for call in response.tool_calls] == ["add_memory"]
    assert server.requests[0].headers["x-stainless-async"] != "false"


def test_the_async_stream_yields_deltas_then_the_response(server: FakeOpenAI) -> None:
    server.reply(text="streamed async reply", usage=(5, 3))
    model = make(server)
    items = arun(model, lambda: drain(model.astream(hello())))
    assert [item.text for item in items[:-1]] == ["streamed ", "async ", "reply"]
    assert isinstance(items[-1], ModelResponse)
    assert items[-1].text == "streamed async reply"
    assert items[-1].usage.total_tokens == 8


def test_the_async_stream_reports_a_cut_as_a_stream_error(server: FakeOpenAI) -> None:
    server.reply(text="a b c d e f", cut_after=2)
    model = make(server)
    with pytest.raises(ModelError) as caught:
        arun(model, lambda: drain(model.astream(hello())))
    assert caught.value.kind == "stream"


def test_one_model_serves_requests_from_separate_event_loops(server: FakeOpenAI) -> None:
    server.reply(text="first")
    server.reply(text="second")
    server.reply(text="third")
    model = make(server)
    assert arun(model, lambda: model.arequest(hello())).text == "first"
    assert asyncio.run(model.arequest(hello())).text == "second"  # a client left behind by a closed loop
    assert arun(model, lambda: model.arequest(hello())).text == "third"


def test_the_fake_server_fails_visibly_without_a_scripted_reply(server: FakeOpenAI) -> None:
    with pytest.raises(ModelError) as caught:
        make(server, max_retries=2).request(hello())
    assert caught.value.message == "Model server error (HTTP 500): fake_openai: no scripted reply"
    assert len(server.requests) == 1  # told the SDK not to retry


def test_the_fake_server_asks_its_responder_once_the_queue_is_empty(server: FakeOpenAI) -> None:
    server.reply(text="queued")
    server.responder = lambda request: Reply(text=f"dynamic {request.body['input'][-1]['content']}")
    model = make(server)
    assert model.request(hello()).text == "queued"
    assert model.request(hello()).text == "dynamic Hi"
    server.reset()
    assert server.requests == [] and server.responder is None
    server.reply(tool_calls=[("add_memory", {})])
    assert model.request(hello()).tool_calls[0].id == "call_1"
