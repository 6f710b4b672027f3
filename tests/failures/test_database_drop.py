"""The database connection dropped mid-run: the run still ends `error`, nothing stays `running`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from agentapp.agent import Agent
from agentapp.db import DjangoDb
from agentapp.platform.database import libpq_params
from sessions_app import services
from sessions_app.models import Message, Run, RunEvent

pytestmark = [pytest.mark.django_db(transaction=True)]


def _operator() -> psycopg.Connection:
    """A connection of its own to the server's maintenance database, as an operator's session."""
    return psycopg.connect(**libpq_params(connection, dbname="postgres"), autocommit=True)


def _terminate_backend(pid: int) -> None:
    """End a server process from another connection, as a database restart or a failover does."""
    with _operator() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _end_every_connection(name: str) -> int:
    with _operator() as other:
        query = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
        return len(other.execute(query, [name]).fetchall())


def _agent_whose_tool_drops_the_connection(make_model) -> Agent:
    def look_up_flights(city: str) -> str:
        """Find flights to a city."""
        with connection.cursor() as cursor:  # the run's own connection: this thread's
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        _terminate_backend(pid)
        return f"no flights to {city}"

    return Agent(model=make_model("chat"), db=DjangoDb(), tools=[look_up_flights])


async def _arun_streamed(agent: Agent, message: str, *, ending: str = "RunError"):
    events = [
        event
        async for event in await agent.arun(
            message, user_id="sarah", session_id="trip", stream=True, stream_events=True
        )
    ]
    await sync_to_async(lambda: connection.close())()  # the storage thread's own, before the loop ends
    assert type(events[-1]).__name__ == ending
    return events[-1].output


@pytest.mark.parametrize("mode", ["run", "stream", "arun"])
def test_a_run_whose_database_connection_is_killed_mid_run_is_stored_on_a_new_one(
    make_model, fake_openai, mode
):
    fake_openai.reply(tool_calls=[("look_up_flights", {"city": "Lisbon"})])
    fake_openai.reply(text="There are no flights to Lisbon today.")
    agent = _agent_whose_tool_drops_the_connection(make_model)

    if mode == "arun":  # the ASGI path: storage on Django's sync thread, the loop on the event loop
        output = asyncio.run(_arun_streamed(agent, "Flights to Lisbon?", ending="RunCompleted"))
    elif mode == "stream":
        events = list(
            agent.run(
                "Flights to Lisbon?", user_id="sarah", session_id="trip", stream=True, stream_events=True
            )
        )
        output = events[-1].output
        assert type(events[-1]).__name__ == "RunCompleted"
    else:
        output = agent.run("Flights to Lisbon?", user_id="sarah", session_id="trip")

    assert output.status == "completed", output.error
    run = Run.objects.get(run_id=output.run_id)
    assert run.status == Run.Status.COMPLETED and run.content == "There are no flights to Lisbon today."
    assert Message.objects.get(run=run, role="user").content == "Flights to Lisbon?"
    assert RunEvent.objects.filter(run=run, kind="tool_call").exists()
    assert not Run.objects.filter(status=Run.Status.RUNNING).exists()


def test_a_run_whose_failure_is_written_after_its_connection_was_killed_keeps_the_reason(
    make_model, fake_openai
):
    fake_openai.reply(tool_calls=[("look_up_flights", {"city": "Lisbon"})])
    fake_openai.reply(status=400, error="the model refused")
    agent = _agent_whose_tool_drops_the_connection(make_model)

    output = agent.run("Flights to Lisbon?", user_id="sarah", session_id="trip")

    assert output.status == "error"
    run = Run.objects.get(run_id=output.run_id)
    assert run.status == Run.Status.ERROR and "the model refused" in run.error
    assert Message.objects.get(run=run, role="user").content == "Flights to Lisbon?"


def test_the_next_run_on_the_same_agent_works_once_the_connection_is_replaced(make_model, fake_openai):
    fake_openai.reply(tool_calls=[("look_up_flights", {"city": "Lisbon"})])
    agent = _agent_whose_tool_drops_the_connection(make_model)
    assert agent.run("Flights to Lisbon?", user_id="sarah", session_id="trip").status == "error"

    fake_openai.reply(text="Try the train.")
    output = agent.run("Then what?", user_id="sarah", session_id="trip")

    assert output.status == "completed" and output.content == "Try the train."


def _database_available(name: str, available: bool) -> None:
    """Refuse or allow new connections; refusing also ends the open ones (and so every pooled one)."""
    with _operator() as other:
        other.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(available).lower()}')
    if not available:
        _end_every_connection(name)


def test_a_run_whose_failure_cannot_be_written_is_ended_by_the_sweep(make_model, fake_openai):
    """When the database stays away (no new connection either), the run is left to the sweep."""
    name = connection.settings_dict["NAME"]

    def look_up_flights(city: str) -> str:
        """Find flights to a city."""
        _database_available(name, False)
        return f"no flights to {city}"

    fake_openai.reply(tool_calls=[("look_up_flights", {"city": "Lisbon"})])
    agent = Agent(model=make_model("chat"), db=DjangoDb(), tools=[look_up_flights])
    options = connection.settings_dict["OPTIONS"]
    pool = options["pool"]
    connection.close()
    connection.close_pool()
    options["pool"] = {**pool, "timeout": 1}  # each wait for a connection gives up after 1 s, not 10
    try:
        output = agent.run("Flights to Lisbon?", user_id="sarah", session_id="trip")
    finally:
        _database_available(name, True)
        connection.close()
        connection.close_pool()  # its connections were ended with the others: start a fresh pool
        options["pool"] = pool

    assert output.status == "error"  # the caller still hears that the run failed
    run = Run.objects.get(run_id=output.run_id)
    assert run.status == Run.Status.RUNNING  # nothing could be written...
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert services.runs_sweep_stale(older_than=timedelta(minutes=15)) == 1  # ...until the sweep
    run.refresh_from_db()
    assert run.status == Run.Status.ERROR
    assert run.messages.get(role="user").content == "Flights to Lisbon?"


def test_after_a_database_restart_the_pool_hands_out_no_dead_connection(client, alice):
    """Every pooled connection ended at once (a restart or failover): the next requests still succeed."""
    from apikeys.services import apikey_create

    _, token = apikey_create(user=alice, name="restart")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/api/sessions", **auth).status_code == 200
    connection.close()  # ours back to the pool too, as at the end of a request

    assert _end_every_connection(connection.settings_dict["NAME"]) >= 1

    statuses = [client.get("/api/sessions", **auth).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
