"""Agno's run events and metrics: a model request announced before and after (with its tokens), the
end of the reply's content, a failing tool's error, a tool's own events, what RunCompleted carries,
and the per-model and per-message metrics of a run."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest

from agentapp.agent import (
    Agent,
    CustomEvent,
    InMemoryDb,
    ModelRequestCompletedEvent,
    ModelRequestStartedEvent,
    RunCompletedEvent,
    RunContentCompletedEvent,
    RunContentEvent,
    RunEvent,
    ToolCallCompletedEvent,
    ToolCallErrorEvent,
)
from agentapp.agent.events import event_payload
from agentapp.agent.metrics import ModelMetrics


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def flaky_lookup(code: str) -> str:
    """Look a code up."""
    raise ValueError(f"no such code {code}")


@dataclass
class ParcelTracked(CustomEvent):
    parcel: str | None = None
    where: str | None = None


def track_parcel(parcel: str):
    """Where a parcel is."""
    yield ParcelTracked(parcel=parcel, where="Lyon depot")
    yield f"{parcel} is in Lyon"


async def atrack_parcel(parcel: str):
    """Where a parcel is."""
    yield ParcelTracked(parcel=parcel, where="Porto depot")
    yield f"{parcel} is in Porto"


@pytest.fixture
def agent(make_model):
    return Agent(model=make_model("chat"), db=InMemoryDb(), tools=[get_weather])


def _names(events) -> list[str]:
    return [e.event for e in events]


def test_each_model_request_is_announced_before_and_after_with_its_tokens(agent, fake_openai):
    fake_openai.reply(tool_calls=[("get_weather", {"city": "Oslo"})], usage=(40, 6))
    fake_openai.reply(text="Sunny in Oslo today.", usage=(60, 9))

    events = list(agent.run("Weather in Oslo?", stream=True, stream_events=True))

    names = [n for n in _names(events) if n != "RunContent"]
    assert names == [
        "RunStarted",
        "ModelRequestStarted",
        "ModelRequestCompleted",
        "ToolCallStarted",
        "ToolCallCompleted",
        "ModelRequestStarted",
        "ModelRequestCompleted",
        "RunContentCompleted",
        "RunCompleted",
    ]
    started = [e for e in events if isinstance(e, ModelRequestStartedEvent)]
    completed = [e for e in events if isinstance(e, ModelRequestCompletedEvent)]
    assert started[0].model == "gpt-test" and started[0].model_provider == agent.model.provider
    assert started[0].event == RunEvent.model_request_started == "ModelRequestStarted"
    assert (completed[0].input_tokens, completed[0].output_tokens, completed[0].total_tokens) == (40, 6, 46)
    assert (completed[1].input_tokens, completed[1].output_tokens) == (60, 9)
    assert completed[1].time_to_first_token is not None and completed[1].time_to_first_token >= 0
    assert completed[1].run_id == events[0].run_id and started[0].content is None
    # The reply's text is all said before RunContentCompleted.
    last_chunk = max(i for i, e in enumerate(events) if isinstance(e, RunContentEvent))
    assert last_chunk < _names(events).index("RunContentCompleted")
    assert isinstance(events[-2], RunContentCompletedEvent) and events[-2].content is None


def test_without_stream_events_the_new_events_stay_out_of_the_stream(agent, fake_openai):
    fake_openai.reply(text="Hello there.")

    events = list(agent.run("Hi", stream=True))

    assert events and all(isinstance(e, RunContentEvent) for e in events)


def test_a_tool_that_raises_is_told_to_the_model_and_announced_as_tool_call_error(make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), tools=[flaky_lookup])
    fake_openai.reply(tool_calls=[("flaky_lookup", {"code": "XZ"})])
    fake_openai.reply(text="That code does not exist.")

    events = list(agent.run("Look up XZ", stream=True, stream_events=True))

    names = _names(events)
    assert names.index("ToolCallCompleted") + 1 == names.index("ToolCallError")
    error = next(e for e in events if isinstance(e, ToolCallErrorEvent))
    assert error.event == RunEvent.tool_call_error == "ToolCallError"
    assert "no such code XZ" in error.error
    assert error.tool.tool_name == "flaky_lookup" and error.tool.tool_call_error is True
    completed = next(e for e in events if isinstance(e, ToolCallCompletedEvent))
    assert completed.tool.tool_call_error is True
    assert json.loads(json.dumps(event_payload(error)))["tool"]["tool_name"] == "flaky_lookup"
    assert events[-1].content == "That code does not exist."
    # The model was told, as before.
    tool_message = fake_openai.requests[-1].body["messages"][-1]
    assert tool_message["role"] == "tool" and "no such code XZ" in tool_message["content"]


def test_a_tool_that_succeeds_raises_no_tool_call_error(agent, fake_openai):
    fake_openai.reply(tool_calls=[("get_weather", {"city": "Rome"})])
    fake_openai.reply(text="Sunny.")

    events = list(agent.run("Rome?", stream=True, stream_events=True))

    assert "ToolCallError" not in _names(events)


def test_a_tools_custom_event_reaches_the_caller(make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), tools=[track_parcel])
    fake_openai.reply(tool_calls=[("track_parcel", {"parcel": "P-17"})])
    fake_openai.reply(text="Your parcel is in Lyon.")

    events = list(agent.run("Where is P-17?", stream=True, stream_events=True))

    custom = [e for e in events if isinstance(e, ParcelTracked)]
    assert len(custom) == 1
    event = custom[0]
    assert event.event == RunEvent.custom_event == "CustomEvent"
    assert (event.parcel, event.where) == ("P-17", "Lyon depot")
    assert event.run_id == events[0].run_id and event.session_id == events[0].session_id
    started = next(e for e in events if e.event == "ToolCallStarted")
    assert event.tool_call_id == started.tool_call_id
    names = _names(events)
    assert names.index("ToolCallStarted") < names.index("CustomEvent") < names.index("ToolCallCompleted")
    # What the tool yielded besides its events is its result.
    tool_message = fake_openai.requests[-1].body["messages"][-1]
    assert "P-17 is in Lyon" in tool_message["content"]


def test_a_custom_event_is_streamed_without_stream_events_too(make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), tools=[track_parcel])
    fake_openai.reply(tool_calls=[("track_parcel", {"parcel": "P-18"})])
    fake_openai.reply(text="In Lyon.")

    events = list(agent.run("Where is P-18?", stream=True))

    assert [type(e) for e in events if not isinstance(e, RunContentEvent)] == [ParcelTracked]


def test_an_async_generator_tool_streams_its_custom_event_from_arun(make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), tools=[atrack_parcel])
    fake_openai.reply(tool_calls=[("atrack_parcel", {"parcel": "P-19"})])
    fake_openai.reply(text="In Porto.")

    async def collect():
        return [e async for e in agent.arun("Where is P-19?", stream=True, stream_events=True)]

    events = asyncio.run(collect())

    custom = next(e for e in events if isinstance(e, ParcelTracked))
    assert custom.where == "Porto depot"
    assert "ModelRequestCompleted" in _names(events) and "RunContentCompleted" in _names(events)
    assert "P-19 is in Porto" in fake_openai.requests[-1].body["messages"][-1]["content"]


def test_run_runs_an_async_generator_tool_to_its_end(make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), tools=[atrack_parcel])
    fake_openai.reply(tool_calls=[("atrack_parcel", {"parcel": "P-20"})])
    fake_openai.reply(text="In Porto.")

    events = list(agent.run("Where is P-20?", stream=True, stream_events=True))

    assert next(e for e in events if isinstance(e, ParcelTracked)).parcel == "P-20"
    assert "P-20 is in Porto" in fake_openai.requests[-1].body["messages"][-1]["content"]


def test_a_custom_event_takes_any_keyword_as_agnos_does():
    event = CustomEvent(order_id="A1", total=12.5)
    assert event.event == "CustomEvent" and event.order_id == "A1" and event.total == 12.5


def test_run_completed_carries_the_session_state_metadata_and_metrics(agent, fake_openai):
    fake_openai.reply(text="Done.", usage=(20, 3))

    events = list(
        agent.run(
            "Hi",
            stream=True,
            stream_events=True,
            session_state={"basket": ["tea"]},
            metadata={"channel": "kiosk"},
        )
    )

    completed = events[-1]
    assert isinstance(completed, RunCompletedEvent)
    assert completed.session_state == {"basket": ["tea"]}
    assert completed.metadata == {"channel": "kiosk"}
    assert completed.metrics.total_tokens == 23


def test_run_metrics_details_break_the_tokens_down_by_model(agent, fake_openai):
    fake_openai.reply(tool_calls=[("get_weather", {"city": "Oslo"})], usage=(40, 6))
    fake_openai.reply(text="Sunny.", usage=(60, 9))

    output = agent.run("Weather in Oslo?")

    details = output.metrics.details
    assert list(details) == ["model"]
    (model,) = details["model"]
    assert isinstance(model, ModelMetrics)
    assert (model.id, model.provider) == ("gpt-test", agent.model.provider)
    assert (model.input_tokens, model.output_tokens, model.total_tokens) == (100, 15, 115)
    assert output.metrics.duration is not None and output.metrics.duration >= 0
    data = output.to_dict()
    assert data["metrics"]["details"]["model"][0]["input_tokens"] == 100
    json.dumps(data)  # JSON-ready, details and message metrics included


def test_each_assistant_message_has_the_metrics_of_its_request(agent, fake_openai):
    fake_openai.reply(tool_calls=[("get_weather", {"city": "Oslo"})], usage=(40, 6))
    fake_openai.reply(text="Sunny.", usage=(60, 9))

    output = agent.run("Weather in Oslo?", stream=True, yield_run_output=True)
    final = list(output)[-1]

    assistants = [m for m in final.messages if m.role == "assistant"]
    assert [(m.metrics.input_tokens, m.metrics.output_tokens) for m in assistants] == [(40, 6), (60, 9)]
    assert all(m.metrics.total_tokens == m.metrics.input_tokens + m.metrics.output_tokens for m in assistants)
    assert all(m.metrics.duration is not None for m in assistants)
    assert assistants[-1].metrics.time_to_first_token is not None
    user = next(m for m in final.messages if m.role == "user")
    assert user.metrics.input_tokens == 0 and user.metrics.duration is None
    assert final.to_dict()["messages"][-1]["metrics"]["output_tokens"] == 9


def test_each_tool_call_of_a_run_has_its_timing(agent, fake_openai):
    fake_openai.reply(tool_calls=[("get_weather", {"city": "Oslo"})])
    fake_openai.reply(text="Sunny.")

    output = agent.run("Weather in Oslo?")

    (call,) = output.tools
    assert call.tool_name == "get_weather" and call.result == "Sunny in Oslo"
    assert call.metrics.start_time <= call.metrics.end_time
    assert call.metrics.duration == pytest.approx(call.metrics.end_time - call.metrics.start_time)


def test_a_stored_run_keeps_its_per_model_totals(agent, fake_openai):
    fake_openai.reply(text="Hi.", usage=(12, 2))

    output = agent.run("Hello")
    stored = agent.get_run_output(output.run_id)

    (model,) = stored.metrics.details["model"]
    assert (model.id, model.input_tokens, model.output_tokens) == ("gpt-test", 12, 2)
