"""The streaming contract as Agno documents it: content chunks by default, every event with
stream_events, the RunOutput last with yield_run_output, `async for` over arun directly, and the
work after the reply done before RunCompleted."""

from __future__ import annotations

import asyncio

import pytest

from agentapp.agent import (
    Agent,
    InMemoryDb,
    RunCompletedEvent,
    RunContentEvent,
    RunEvent,
    RunOutput,
    RunStartedEvent,
    ToolCallCompletedEvent,
    ToolCallStartedEvent,
)
from tests.fake_openai import MEMORY_MANAGER_LANE


@pytest.fixture
def agent(make_model):
    return Agent(model=make_model("chat"), db=InMemoryDb(), enable_agentic_memory=True)


def test_the_docs_loop_prints_the_reply_chunk_by_chunk(agent, fake_openai):
    fake_openai.reply(text="Lisbon is lovely in May.")

    chunks = list(agent.run("Tell me about Lisbon", stream=True))

    assert chunks and all(isinstance(c, RunContentEvent) for c in chunks)
    assert "".join(c.content for c in chunks) == "Lisbon is lovely in May."
    assert all(c.event == RunEvent.run_content == "RunContent" for c in chunks)


def test_stream_events_yields_the_lifecycle_and_the_tools_under_agnos_names(agent, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes jazz"})])
    fake_openai.reply(text="Noted.")

    events = list(agent.run("I like jazz", stream=True, stream_events=True))

    assert isinstance(events[0], RunStartedEvent) and isinstance(events[-1], RunCompletedEvent)
    started = next(e for e in events if isinstance(e, ToolCallStartedEvent))
    completed = next(e for e in events if isinstance(e, ToolCallCompletedEvent))
    assert started.tool.tool_name == "add_memory" and '"User likes jazz"' in started.tool.tool_args
    assert completed.tool.result.startswith("Stored memory") and completed.content is None
    assert {e.event for e in events} <= {member.value for member in RunEvent}
    assert events[-1].content == "Noted." and started.content is None


def test_yield_run_output_ends_the_stream_with_the_run_output(agent, fake_openai):
    fake_openai.reply(text="Hi!")

    items = list(agent.run("Hello", stream=True, yield_run_output=True))

    assert isinstance(items[-1], RunOutput) and items[-1].content == "Hi!"
    assert all(isinstance(i, RunContentEvent) for i in items[:-1])


def test_arun_streams_with_async_for_directly(agent, fake_openai):
    fake_openai.reply(text="one two three")

    async def collect() -> list:
        return [chunk.content async for chunk in agent.arun("Count", stream=True)]

    assert "".join(asyncio.run(collect())) == "one two three"


def test_a_consumer_that_stops_at_run_completed_loses_no_memory_update(make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), update_memory_on_run=True)
    fake_openai.reply(text="Nice to meet you, Sarah.")
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "User is called Sarah"})], lane=MEMORY_MANAGER_LANE
    )
    fake_openai.reply(text="Done.", lane=MEMORY_MANAGER_LANE)

    seen = []
    for event in agent.run("I'm Sarah", user_id="sarah", stream=True, stream_events=True):
        seen.append(event.event)
        if isinstance(event, RunCompletedEvent):
            break  # as Agno's own tests stop reading

    assert seen[-4:] == ["MemoryUpdateStarted", "MemoryUpdated", "MemoryUpdateCompleted", "RunCompleted"]
    assert [m.memory for m in agent.get_user_memories(user_id="sarah")] == ["User is called Sarah"]


def test_the_summary_is_made_before_run_completed_and_said_so(make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), enable_session_summaries=True)
    fake_openai.reply(text="Porto is lovely.")
    fake_openai.reply(text='{"summary": "Sarah asked about Porto.", "topics": ["travel"]}')

    events = list(agent.run("Tell me about Porto", user_id="sarah", stream=True, stream_events=True))

    names = [e.event for e in events]
    assert names[-3:] == ["SessionSummaryStarted", "SessionSummaryCompleted", "RunCompleted"]
    assert events[-2].session_summary and "Porto" in events[-2].session_summary


def test_the_run_output_carries_agnos_fields(make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), name="helper", id="helper-1", tools=[])
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes tea"})])
    fake_openai.reply(text="Noted.")

    output = Agent(
        model=make_model("chat"), db=InMemoryDb(), name="helper", id="helper-1", enable_agentic_memory=True
    ).run("I like tea", user_id="sarah")

    assert (output.agent_id, output.agent_name, output.input) == ("helper-1", "helper", "I like tea")
    assert (output.model, output.model_provider) == ("gpt-test", "openai-chat")
    assert output.created_at > 1_700_000_000 and output.content_type == "str"
    assert [(t.tool_name, t.tool_call_error) for t in output.tools] == [("add_memory", False)]
    assert output.tools[0].result.startswith("Stored memory")
    assert agent.id == "helper-1"


def test_cancel_run_stops_a_streaming_run_keeping_what_was_said(make_model, fake_openai):
    from agentapp.agent import RunCancelledEvent

    agent = Agent(model=make_model("chat"), db=InMemoryDb())
    fake_openai.reply(text="one two three four five six seven eight", chunk_delay=0.05)

    seen = []
    for event in agent.run("Count", user_id="sarah", stream=True, stream_events=True):
        seen.append(event)
        if event.event == "RunContent" and len([e for e in seen if e.event == "RunContent"]) == 2:
            assert agent.cancel_run(event.run_id) is True

    assert isinstance(seen[-1], RunCancelledEvent)
    output = seen[-1].output
    assert output.status == "cancelled" and output.content.startswith("one two")
    assert "eight" not in output.content
    assert agent.db.run_status(run_id=output.run_id) == "cancelled"
    assert agent.cancel_run(output.run_id) is False  # no longer going


def test_cancel_run_from_another_thread_stops_an_async_run(make_model, fake_openai):
    import threading

    agent = Agent(model=make_model("chat"), db=InMemoryDb())
    fake_openai.reply(text="alpha beta gamma delta epsilon zeta eta theta", chunk_delay=0.05)

    async def consume() -> list:
        events = []
        async for event in agent.arun("Go", stream=True, stream_events=True):
            events.append(event)
            if event.event == "RunStarted":
                threading.Timer(0.12, agent.cancel_run, args=[event.run_id]).start()
        return events

    events = asyncio.run(consume())

    assert events[-1].event == "RunCancelled" and events[-1].output.status == "cancelled"
    assert "theta" not in events[-1].output.content
