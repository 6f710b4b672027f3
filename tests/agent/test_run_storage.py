"""What a run writes, and when: its timeline with its end, and no database connection held on the model."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agentapp.agent import RunCompleted, RunContent
from sessions_app.models import Run, RunEvent


def _kinds(run_id: str) -> list[str]:
    return list(RunEvent.objects.filter(run__run_id=run_id).order_by("id").values_list("kind", flat=True))


@pytest.mark.django_db
def test_a_plain_turn_stores_its_timeline_in_one_insert_with_its_end(make_agent, fake_openai):
    fake_openai.reply(text="Lisbon has good trains and better pastries.", chunk_delay=0.01)
    agent = make_agent("chat")
    seen_while_streaming = None
    with CaptureQueriesContext(connection) as captured:
        for event in agent.run(
            "Tell me about Lisbon", user_id="alice", session_id="trip", stream=True, stream_events=True
        ):
            if isinstance(event, RunContent) and seen_while_streaming is None:
                seen_while_streaming = _kinds(event.run_id)
            if isinstance(event, RunCompleted):
                run_id = event.run_id

    assert seen_while_streaming == []  # nothing written between the run's start and its end
    assert _kinds(run_id) == ["context", "model_request"]
    inserts = [
        q["sql"] for q in captured.captured_queries if 'INSERT INTO "sessions_app_runevent"' in q["sql"]
    ]
    assert len(inserts) == 1


@pytest.mark.django_db
def test_the_timeline_so_far_is_stored_before_a_tool_runs(make_model, fake_openai):
    from agentapp.agent import Agent
    from agentapp.db import DjangoDb

    seen_by_tool: list[list[str]] = []

    def look_up_trains(city: str) -> str:
        """Trains to a city."""
        seen_by_tool.append(_kinds(Run.objects.latest("id").run_id))
        return f"hourly to {city}"

    fake_openai.reply(tool_calls=[("look_up_trains", {"city": "Porto"})])
    fake_openai.reply(text="Hourly trains.")
    agent = Agent(model=make_model("chat"), db=DjangoDb(), tools=[look_up_trains])

    output = agent.run("Trains to Porto?", user_id="alice", session_id="trip")

    assert output.status == "completed"
    assert seen_by_tool == [["context", "model_request"]]  # a slow tool's run already shows its progress
    assert _kinds(output.run_id) == ["context", "model_request", "tool_call", "model_request"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["arun", "run"])
def test_an_async_run_holds_no_pooled_connection_while_the_model_streams(make_agent, fake_openai, mode):
    """The ASGI path gives the connection back; the sync path (one thread, one run) keeps it, cheaper."""
    assert connection.pool is not None  # PostgreSQL here runs with psycopg's pool, as in production
    fake_openai.reply(text="one two three four five", chunk_delay=0.02)
    agent = make_agent("chat")

    def holding() -> bool:
        return connection.connection is not None

    async def streamed() -> tuple[list[bool], str]:
        held, run_id = [], ""
        async for event in await agent.arun(
            "Count to five", user_id="alice", session_id="c", stream=True, stream_events=True
        ):
            if isinstance(event, RunContent):
                held.append(await sync_to_async(holding)())  # the storage's own thread
            run_id = event.run_id
        await sync_to_async(
            lambda: connection.close()
        )()  # that thread outlives the test: leave no connection behind
        return held, run_id

    if mode == "arun":
        held, run_id = asyncio.run(streamed())
    else:
        held, run_id = [], ""
        for event in agent.run(
            "Count to five", user_id="alice", session_id="c", stream=True, stream_events=True
        ):
            if isinstance(event, RunContent):
                held.append(holding())
            run_id = event.run_id

    assert held and all(flag == (mode == "run") for flag in held)
    run = Run.objects.get(run_id=run_id)  # the end was stored (on a connection taken back from the pool)
    assert run.status == Run.Status.COMPLETED and run.content == "one two three four five"
