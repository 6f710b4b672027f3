"""SessionSummaryManager (its model, prompt and request message for the fold; a summary afresh from
the last runs) and MemoryTools (Agno's toolkit, bound to the run's user)."""

from __future__ import annotations

import pytest

from agentapp.agent import Agent, MemoryTools, SessionSummaryManager
from agentapp.llm import OpenAIChat
from tests.fake_openai import Reply


@pytest.fixture
def cheap_model(fake_openai):
    return OpenAIChat(
        id="gpt-cheap", base_url=fake_openai.base_url, api_key="sk-test", max_retries=0, timeout=5.0
    )


def test_the_summary_fold_uses_the_managers_model_prompt_and_request_message(
    storage, make_model, cheap_model, fake_openai
):
    manager = SessionSummaryManager(
        model=cheap_model,
        session_summary_prompt="Summarise in one line.",
        summary_request_message="Summarise:",
    )
    agent = Agent(
        model=make_model("chat"), db=storage, enable_session_summaries=True, session_summary_manager=manager
    )
    fake_openai.reply(text="Hello Sarah.")
    fake_openai.reply(text="Sarah said hello.\nTopics: greetings")

    agent.run("Hi, I'm Sarah", user_id="sarah", session_id="s")

    request = fake_openai.requests[1].body
    assert request["model"] == "gpt-cheap"
    assert request["messages"][0]["content"].startswith("Summarise in one line.")
    assert request["messages"][1]["content"].startswith("Summarise:")
    summary = agent.get_session_summary(session_id="s", user_id="sarah")
    assert (summary.summary, summary.topics) == ("Sarah said hello.", ["greetings"])


def test_create_session_summary_reads_only_the_last_n_runs_and_replaces_the_summary(
    storage, make_model, cheap_model, fake_openai
):
    fake_openai.responder = lambda request: Reply(text="reply")
    agent = Agent(model=make_model("chat"), db=storage)
    for word in ("alpha", "bravo", "charlie", "delta"):
        agent.run(f"say {word}", user_id="sarah", session_id="s")
    fake_openai.responder = None
    fake_openai.reply(text="Charlie and delta were said.\nTopics: letters")

    summary = SessionSummaryManager(model=cheap_model, last_n_runs=2).create_session_summary(
        db=storage, session_id="s"
    )

    sent = fake_openai.requests[-1].body["messages"][1]["content"]
    assert "say charlie" in sent and "say delta" in sent and "say bravo" not in sent
    assert summary.summary == "Charlie and delta were said."
    assert summary.to_dict()["topics"] == ["letters"]


def test_memory_tools_offer_agnos_tool_names_bound_to_the_runs_user(storage, make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=storage, tools=[MemoryTools()])
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes tea", "topics": ["drinks"]})])
    fake_openai.reply(tool_calls=[("get_memories", {})])
    fake_openai.reply(text="Noted.")

    agent.run("I like tea", user_id="sarah", session_id="s")

    names = [t["function"]["name"] for t in fake_openai.requests[0].body["tools"]]
    assert names == ["think", "get_memories", "add_memory", "update_memory", "delete_memory"]
    listed = fake_openai.requests[2].body["messages"][-1]["content"]
    assert "User likes tea" in listed
    assert [m.memory for m in agent.get_user_memories(user_id="sarah")] == ["User likes tea"]
    assert agent.get_user_memories(user_id="bob") == []


def test_memory_tools_never_reach_another_persons_memory(storage, make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=storage, tools=[MemoryTools()])
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Bob is a pilot"})])
    fake_openai.reply(text="ok")
    agent.run("I'm a pilot", user_id="bob", session_id="b")
    [bobs] = agent.get_user_memories(user_id="bob")
    fake_openai.reply(tool_calls=[("delete_memory", {"memory_id": bobs.memory_id})])
    fake_openai.reply(text="ok")

    agent.run("forget it", user_id="sarah", session_id="s")

    assert "not found" in fake_openai.requests[-1].body["messages"][-1]["content"].lower()
    assert [m.memory for m in agent.get_user_memories(user_id="bob")] == ["Bob is a pilot"]


def test_memory_tools_flags_leave_tools_out(storage, make_model, fake_openai):
    agent = Agent(
        model=make_model("chat"),
        db=storage,
        tools=[MemoryTools(enable_delete_memory=False, enable_think=False, enable_analyze=True)],
    )
    fake_openai.reply(text="ok")
    agent.run("hi", user_id="sarah", session_id="s")
    names = [t["function"]["name"] for t in fake_openai.requests[0].body["tools"]]
    assert names == ["get_memories", "add_memory", "update_memory", "analyze"]


@pytest.mark.django_db
def test_a_custom_summary_prompt_shows_on_the_run_pages_context_view(
    client, alice, make_model, cheap_model, fake_openai
):
    from agentapp.db import DjangoDb

    manager = SessionSummaryManager(
        model=cheap_model, session_summary_prompt="Summarise for the night shift."
    )
    agent = Agent(
        model=make_model("chat"),
        db=DjangoDb(),
        enable_session_summaries=True,
        session_summary_manager=manager,
    )
    fake_openai.reply(text="Hello.")
    fake_openai.reply(text="A greeting.\nTopics: greetings")
    output = agent.run("Hi", user_id="alice", session_id="alice-thread")

    client.force_login(alice)
    body = client.get(f"/runs/{output.run_id}/context/").content.decode()
    assert "Summarise for the night shift." in body
