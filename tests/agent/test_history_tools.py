"""Tools over what was said before, as Agno offers them: this conversation's turns and tool calls,
and the same person's other conversations; bounded, and never another person's."""

from __future__ import annotations

import json

import pytest

from agentapp.agent import Agent, InMemoryDb
from tests.fake_openai import Reply


def tool_result(request_body: dict, name: str) -> str:
    messages = request_body["messages"]
    calls = {c["id"]: c["function"]["name"] for m in messages for c in m.get("tool_calls") or []}
    return next(
        m["content"] for m in messages if m["role"] == "tool" and calls.get(m["tool_call_id"]) == name
    )


@pytest.fixture
def db():
    return InMemoryDb()


def test_read_chat_history_gives_the_model_this_conversations_earlier_turns(make_model, fake_openai, db):
    agent = Agent(model=make_model("chat"), db=db, read_chat_history=True, add_history_to_context=False)
    fake_openai.reply(text="Lisbon it is.")
    agent.run("Let's plan a trip to Lisbon", user_id="sarah", session_id="trip")
    fake_openai.reply(tool_calls=[("get_chat_history", {"num_chats": 5})])
    fake_openai.reply(text="We said Lisbon.")

    agent.run("Where did we say we'd go?", user_id="sarah", session_id="trip")

    turns = json.loads(tool_result(fake_openai.requests[-1].body, "get_chat_history"))
    assert turns == [{"user": "Let's plan a trip to Lisbon", "assistant": "Lisbon it is."}]


def test_read_tool_call_history_lists_the_calls_and_their_results(make_model, fake_openai, db):
    agent = Agent(model=make_model("chat"), db=db, enable_agentic_memory=True, read_tool_call_history=True)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes tea"})])
    fake_openai.reply(text="Noted.")
    agent.run("I like tea", user_id="sarah", session_id="s")
    fake_openai.reply(tool_calls=[("get_tool_call_history", {})])
    fake_openai.reply(text="You told me about tea.")

    agent.run("What did you do last time?", user_id="sarah", session_id="s")

    calls = json.loads(tool_result(fake_openai.requests[-1].body, "get_tool_call_history"))
    assert calls[0]["tool"] == "add_memory" and "tea" in calls[0]["arguments"]
    assert calls[0]["result"].startswith("Stored memory")


def test_search_past_sessions_finds_the_persons_other_conversations_only(make_model, fake_openai, storage):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = Agent(
        model=make_model("chat"), db=storage, search_past_sessions=True, num_past_sessions_to_search=2
    )
    agent.run("My sister's wedding is in Porto in June", user_id="sarah", session_id="old")
    agent.run("Recommend a jazz album", user_id="sarah", session_id="music")
    agent.run("Porto secrets: my wedding plans", user_id="mallory", session_id="mallory-s")
    fake_openai.responder = None
    fake_openai.reply(tool_calls=[("search_past_sessions", {"query": "wedding"})])
    fake_openai.reply(text="Your sister's wedding in Porto.")

    agent.run("When is that wedding again?", user_id="sarah", session_id="new")

    found = json.loads(tool_result(fake_openai.requests[-1].body, "search_past_sessions"))
    assert [s["session_id"] for s in found] == ["old"]  # not this one, not the unrelated one, not mallory's
    assert "June" in found[0]["turns"][0]["user"] and "mallory" not in json.dumps(found)


def test_the_history_tools_are_offered_only_when_asked(make_model, fake_openai, db):
    fake_openai.reply(text="ok")
    Agent(model=make_model("chat"), db=db).run("hi", user_id="sarah")

    assert "tools" not in fake_openai.requests[-1].body or not fake_openai.requests[-1].body["tools"]
