"""What a run writes, and when: its timeline with its end, and no database connection held on the model."""

from __future__ import annotations

import pytest
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
        for event in agent.run("Tell me about Lisbon", user_id="alice", session_id="trip", stream=True):
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_holds_no_pooled_connection_while_the_model_streams(make_agent, fake_openai):
    assert connection.pool is not None  # PostgreSQL here runs with psycopg's pool, as in production
    fake_openai.reply(text="one two three four five", chunk_delay=0.02)
    agent = make_agent("chat")
    held_while_streaming = []
    for event in agent.run("Count to five", user_id="alice", session_id="count", stream=True):
        if isinstance(event, RunContent):
            held_while_streaming.append(connection.connection is not None)
        if isinstance(event, RunCompleted):
            run_id = event.run_id

    assert held_while_streaming and not any(held_while_streaming)
    run = Run.objects.get(run_id=run_id)  # and the end was stored on a connection taken back from the pool
    assert run.status == Run.Status.COMPLETED and run.content == "one two three four five"
