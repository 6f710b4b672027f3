"""What stopped Agno's own examples and tests: an `async def` tool, the sync storage called from async
code, and `{key}` in the person's message."""

from __future__ import annotations

import asyncio

import pytest

from agentapp.agent import Agent, InMemoryDb, UserMemory
from agentapp.db import DjangoDb
from tests.fake_openai import Reply

LOOKED_UP: list[str] = []


async def lookup_weather(city: str) -> str:
    """Look up today's weather in a city."""
    await asyncio.sleep(0)
    LOOKED_UP.append(city)
    return f"Sunny in {city}"


def _tool_result(fake_openai) -> str:
    message = fake_openai.requests[1].body["messages"][-1]
    assert message["role"] == "tool"
    return message["content"]


@pytest.mark.parametrize("stream", [False, True])
def test_an_async_tool_is_awaited_in_run_and_its_result_goes_to_the_model(agent_on, fake_openai, stream):
    LOOKED_UP.clear()
    fake_openai.reply(tool_calls=[("lookup_weather", {"city": "Porto"})])
    fake_openai.reply(text="It is sunny in Porto.")
    agent = agent_on(tools=[lookup_weather])

    if stream:
        list(agent.run("Weather in Porto?", user_id="sarah", session_id="w", stream=True))
    else:
        agent.run("Weather in Porto?", user_id="sarah", session_id="w")

    assert LOOKED_UP == ["Porto"]
    assert _tool_result(fake_openai) == "Sunny in Porto"


def test_an_async_tool_is_awaited_in_arun(make_model, fake_openai):
    LOOKED_UP.clear()
    fake_openai.reply(tool_calls=[("lookup_weather", {"city": "Lisbon"})])
    fake_openai.reply(text="It is sunny in Lisbon.")
    agent = Agent(model=make_model("chat"), db=InMemoryDb(), tools=[lookup_weather])

    output = asyncio.run(agent.arun("Weather in Lisbon?", user_id="sarah", session_id="w"))

    assert output.content == "It is sunny in Lisbon."
    assert LOOKED_UP == ["Lisbon"] and _tool_result(fake_openai) == "Sunny in Lisbon"


@pytest.mark.django_db(transaction=True)
def test_the_django_storage_may_be_called_from_async_code_as_agnos_storages_may(make_model, fake_openai):
    fake_openai.responder = lambda request: Reply(text="Noted.")
    agent = Agent(model=make_model("chat"), db=DjangoDb(), user_id="sarah", session_id="a1")

    async def script():
        agent.run("My name is Sarah.")  # sync calls inside async def, as Agno's examples make
        agent.db.upsert_user_memory(UserMemory(memory="Likes green tea", user_id="sarah"))
        return agent.get_user_memories(user_id="sarah"), agent.get_session(session_id="a1")

    memories, session = asyncio.run(script())

    assert [m.memory for m in memories] == ["Likes green tea"]
    assert session is not None and session.session_id == "a1"


def test_placeholders_in_the_message_are_filled_from_the_session_state(agent_on, fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = agent_on(session_state={"city": "Porto"}, user_id="sarah", session_id="p")

    agent.run('What is the weather in {city}? Keep {unknown} and {"a": 1} as typed.')

    sent = fake_openai.requests[-1].body["messages"][-1]
    assert sent["role"] == "user"
    assert sent["content"] == 'What is the weather in Porto? Keep {unknown} and {"a": 1} as typed.'
