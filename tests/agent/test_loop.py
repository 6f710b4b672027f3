"""The model/tool loop on its own: no database, the real SDK against the loopback server."""

from __future__ import annotations

import asyncio

import pytest

from agentapp.agent import loop
from agentapp.agent.tools import tool_from_function
from agentapp.llm import Message, TextDelta
from tests.fake_openai import Reply


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _messages() -> list[Message]:
    return [Message(role="system", content="Be brief."), Message(role="user", content="What is 2+3?")]


def test_a_text_reply_finishes_after_one_request(make_model, fake_openai):
    fake_openai.reply(text="Five.")
    events = list(loop.run_loop(make_model("chat"), _messages()))

    assert [type(e).__name__ for e in events] == [
        "ModelRequestStarted",
        "ModelRequestFinished",
        "LoopFinished",
    ]
    finished = events[-1]
    assert finished.content == "Five." and finished.model_requests == 1 and finished.tool_calls == 0


def test_a_tool_call_is_run_and_its_result_sent_back(make_model, adapter, fake_openai):
    fake_openai.reply(tool_calls=[("add", {"a": 2, "b": 3})])
    fake_openai.reply(text="It is 5.")
    events = list(loop.run_loop(make_model(adapter), _messages(), [tool_from_function(add)]))

    tool_done = next(e for e in events if isinstance(e, loop.ToolExecutionFinished))
    assert (tool_done.call.name, tool_done.result, tool_done.is_error) == ("add", "5", False)
    assert events[-1].content == "It is 5."
    assert [m.role for m in events[-1].new_messages] == ["assistant", "tool", "assistant"]
    assert '"5"' in str(fake_openai.requests[1].body) or "'5'" in str(fake_openai.requests[1].body)


def test_tool_schemas_are_derived_from_the_function(make_model, fake_openai):
    fake_openai.reply(text="ok")
    list(loop.run_loop(make_model("chat"), _messages(), [tool_from_function(add)]))
    tool = fake_openai.requests[0].body["tools"][0]["function"]
    assert tool["name"] == "add" and tool["description"] == "Add two numbers."
    assert tool["parameters"]["properties"] == {"a": {"type": "integer"}, "b": {"type": "integer"}}


def test_an_unknown_tool_or_bad_arguments_go_back_to_the_model_as_errors(make_model, fake_openai):
    fake_openai.reply(tool_calls=[("nope", {}), ("add", "{not json")])
    fake_openai.reply(text="Sorry.")
    events = list(loop.run_loop(make_model("chat"), _messages(), [tool_from_function(add)]))

    results = [e for e in events if isinstance(e, loop.ToolExecutionFinished)]
    assert [r.is_error for r in results] == [True, True]
    assert "no tool named 'nope'" in results[0].result
    assert "not a valid JSON object" in results[1].result
    assert events[-1].content == "Sorry."


def test_rounds_are_bounded_and_the_last_round_offers_no_tools(make_model, fake_openai):
    fake_openai.responder = lambda request: Reply(
        tool_calls=[("add", {"a": 1, "b": 1})], text="still thinking"
    )
    tools = [tool_from_function(add)]
    events = list(loop.run_loop(make_model("chat"), _messages(), tools, max_tool_rounds=3))

    assert len(fake_openai.requests) == 3
    assert "tools" in fake_openai.requests[1].body
    assert "tools" not in fake_openai.requests[2].body
    finished = events[-1]
    assert isinstance(finished, loop.LoopFinished)
    assert finished.model_requests == 3 and finished.tool_calls == 2


def test_a_model_error_ends_the_loop_as_failed(make_model, fake_openai):
    fake_openai.reply(status=503, error="overloaded")
    events = list(loop.run_loop(make_model("chat"), _messages()))

    assert isinstance(events[-2], loop.ModelRequestFailed)
    failed = events[-1]
    assert isinstance(failed, loop.LoopFailed)
    assert failed.error.kind == "server" and "overloaded" in failed.error.message


def test_streaming_yields_deltas_before_the_response(make_model, adapter, fake_openai):
    fake_openai.reply(text="one two three")
    events = list(loop.run_loop(make_model(adapter), _messages(), stream=True))

    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == "one two three" and len(deltas) == 3
    finished_at = next(i for i, e in enumerate(events) if isinstance(e, loop.ModelRequestFinished))
    assert all(isinstance(e, TextDelta) for e in events[1:finished_at])
    assert events[-1].first_token_at is not None


def test_the_async_loop_matches_the_sync_loop(make_model, adapter, fake_openai):
    fake_openai.reply(tool_calls=[("add", {"a": 2, "b": 2})])
    fake_openai.reply(text="Four.")

    async def collect() -> list:
        events = loop.arun_loop(make_model(adapter), _messages(), [tool_from_function(add)], stream=True)
        return [event async for event in events]

    events = asyncio.run(collect())
    assert next(e for e in events if isinstance(e, loop.ToolExecutionFinished)).result == "4"
    assert events[-1].content == "Four."


@pytest.mark.parametrize("stream", [False, True])
def test_usage_is_summed_over_the_requests(make_model, fake_openai, stream):
    fake_openai.reply(tool_calls=[("add", {"a": 1, "b": 2})], usage=(10, 2))
    fake_openai.reply(text="3", usage=(15, 1))
    events = list(loop.run_loop(make_model("chat"), _messages(), [tool_from_function(add)], stream=stream))
    usage = events[-1].usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (25, 3, 28)
