"""Agno's session state: defaults on the Agent, a run's own, the stored one between runs, tools that
read and change it through the run context, placeholders, the state in the context, agentic state."""

from __future__ import annotations

import pytest

from agentapp.agent import Agent
from agentapp.agent.run_context import RunContext
from agentapp.db import DjangoDb
from sessions_app.models import AgentSession
from tests.fake_openai import Reply


def add_item(run_context: RunContext, item: str) -> str:
    """Add an item to the shopping list."""
    run_context.session_state.setdefault("shopping_list", []).append(item)
    return f"The list is now {run_context.session_state['shopping_list']}"


def count(session_state: dict) -> str:
    """Count one more."""
    session_state["count"] = session_state.get("count", 0) + 1
    return str(session_state["count"])


def system_message(fake_openai) -> str:
    return fake_openai.requests[-1].body["messages"][0]["content"]


def test_a_tool_that_counts_in_the_session_state_keeps_counting_across_runs(agent_on, fake_openai):
    agent = agent_on(session_state={"count": 0}, tools=[count], user_id="sarah", session_id="s1")
    for _ in range(2):
        fake_openai.reply(tool_calls=[("count", {})])
        fake_openai.reply(text="counted")

    first = agent.run("count")
    second = agent.run("count again")

    assert first.session_state == {"count": 1} and second.session_state == {"count": 2}
    assert agent.get_session_state() == {"count": 2}
    tools = fake_openai.requests[0].body["tools"]
    assert tools[0]["function"]["parameters"]["properties"] == {}  # the state is no parameter


def test_a_run_context_tool_changes_the_state_and_it_is_saved_with_the_run(agent_on, fake_openai):
    agent = agent_on(tools=[add_item])
    fake_openai.reply(tool_calls=[("add_item", {"item": "milk"})])
    fake_openai.reply(text="Added.")

    output = agent.run("Add milk", user_id="sarah", session_id="shop")

    assert output.session_state == {"shopping_list": ["milk"]}
    assert agent.get_session_state("shop") == {"shopping_list": ["milk"]}


def test_precedence_the_run_over_the_stored_over_the_agents_default(agent_on, fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = agent_on(
        session_state={"theme": "light", "lang": "en", "unit": "km"}, user_id="sarah", session_id="p"
    )
    agent.run("one", session_state={"lang": "pt"})  # stored now: theme light, lang pt, unit km
    agent.update_session_state({"unit": "mi"})

    output = agent.run("two", session_state={"theme": "dark"})

    assert output.session_state == {"theme": "dark", "lang": "pt", "unit": "mi"}


def test_overwrite_db_session_state_replaces_what_was_stored(agent_on, fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = agent_on(user_id="sarah", session_id="o", overwrite_db_session_state=True)
    agent.run("one", session_state={"a": 1, "b": 2})

    output = agent.run("two", session_state={"c": 3})

    assert output.session_state == {"c": 3} and agent.get_session_state() == {"c": 3}


def test_placeholders_and_the_state_in_the_context(agent_on, fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = agent_on(
        instructions='You help {user_name}. Reply as JSON like {"a": 1}; keep {unknown} as is.',
        session_state={"user_name": "Sarah", "plan": "pro"},
        add_session_state_to_context=True,
        user_id="sarah",
    )

    agent.run("hi")

    system = system_message(fake_openai)
    assert system.startswith('You help Sarah. Reply as JSON like {"a": 1}; keep {unknown} as is.')
    assert "<session_state>" in system and '"plan": "pro"' in system


def test_instructions_may_read_the_run_context(agent_on, fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = agent_on(
        instructions=lambda run_context: (
            f"The user is {run_context.user_id} on {run_context.session_state['plan']}."
        ),
        session_state={"plan": "pro"},
    )

    agent.run("hi", user_id="sarah")

    assert system_message(fake_openai).startswith("The user is sarah on pro.")


def test_agentic_state_lets_the_model_update_it(agent_on, fake_openai):
    agent = agent_on(enable_agentic_state=True, user_id="sarah", session_id="a")
    fake_openai.reply(tool_calls=[("update_session_state", {"session_state_updates": {"mood": "happy"}})])
    fake_openai.reply(text="Noted.")

    output = agent.run("I am happy today")

    assert output.session_state == {"mood": "happy"} and agent.get_session_state() == {"mood": "happy"}


@pytest.mark.django_db
def test_a_state_that_is_not_json_is_not_saved_and_the_reply_stands(make_model, fake_openai):
    def remember_object(run_context: RunContext) -> str:
        """Store something odd."""
        run_context.session_state["when"] = object()
        return "done"

    agent = Agent(model=make_model("chat"), db=DjangoDb(), tools=[remember_object])
    fake_openai.reply(tool_calls=[("remember_object", {})])
    fake_openai.reply(text="ok")

    output = agent.run("go", user_id="sarah", session_id="odd")

    assert output.status == "completed"
    assert AgentSession.objects.get(session_id="odd").session_state == {}


@pytest.mark.django_db
def test_the_api_shows_and_sets_the_state_and_the_chat_page_shows_it(make_model, fake_openai, alice, client):
    from apikeys.services import apikey_create
    from tests.api.conftest import ApiClient

    fake_openai.reply(text="ok")
    Agent(model=make_model("chat"), db=DjangoDb(), session_state={"plan": "pro"}).run(
        "hi", user_id="alice", session_id="alice-s"
    )
    _key, token = apikey_create(user=alice, name="t")
    api = ApiClient(token)

    assert api.get("/api/sessions/alice-s").json()["session_state"] == {"plan": "pro"}
    changed = api.patch("/api/sessions/alice-s", json={"session_state": {"plan": "team", "seats": 5}})
    assert changed.status_code == 200 and changed.json()["session_state"] == {"plan": "team", "seats": 5}
    assert api.patch("/api/sessions/alice-s", json={"session_state": [1, 2]}).status_code == 422
    too_big = api.patch("/api/sessions/alice-s", json={"session_state": {"x": "y" * 70_000}})
    assert too_big.status_code == 422 and "64 KiB" in too_big.json()["message"]
    assert api.patch("/api/sessions/alice-s", json={}).status_code == 422
    assert api.get("/api/sessions/alice-s").json()["session_state"] == {"plan": "team", "seats": 5}

    client.force_login(alice)
    page = client.get("/chats/alice-s/").content.decode()
    assert 'id="session-state"' in page and "&#x27;seats&#x27;: 5" in page
