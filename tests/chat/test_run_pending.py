"""Agent.run_pending / arun_pending: execute a run the chat created as pending, exactly once."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from sessions_app import services
from sessions_app.models import AgentSession, Run

pytestmark = pytest.mark.django_db(transaction=True)


def _pending(alice) -> Run:
    session = AgentSession.objects.create(session_id="s1", user=alice)
    return services.run_create(session=session, input="Hello", status=Run.Status.PENDING)


def test_a_pending_run_is_executed_once_and_a_second_claim_gets_nothing(make_agent, fake_openai, alice):
    fake_openai.reply(text="Hi Alice")
    agent = make_agent("chat")
    run = _pending(alice)
    output = agent.run_pending(run.run_id)
    assert output.status == "completed" and output.content == "Hi Alice" and output.run_id == run.run_id
    assert agent.run_pending(run.run_id) is None
    assert len(fake_openai.requests) == 1
    run.refresh_from_db()
    assert run.status == "completed" and run.model_id == "gpt-test"


def test_the_async_path_streams_the_same_events(make_agent, fake_openai, alice):
    fake_openai.reply(text="Hi there Alice")
    agent = make_agent("chat")
    run = _pending(alice)

    async def collect():
        events = await agent.arun_pending(run.run_id, stream=True)
        names = [event.event async for event in events]
        again = await agent.arun_pending(run.run_id, stream=True)
        # The agent's storage calls ran in asgiref's worker thread: close its connection before leaving.
        await sync_to_async(connections.close_all)()
        return names, again

    names, again = asyncio.run(collect())
    assert names[0] == "RunStarted" and names[-1] == "RunCompleted" and "RunContent" in names
    assert again is None and len(fake_openai.requests) == 1
