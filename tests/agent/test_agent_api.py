"""The rest of the public Agent API: arun, state readers, defaults."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from agentapp.agent import Agent, RunCompleted, RunContent
from agentapp.db import DjangoDb
from agentapp.errors import InvalidInput
from sessions_app.models import AgentSession, Run

pytestmark = pytest.mark.django_db


def test_arun_returns_the_same_output_as_run(make_agent, adapter, fake_openai):
    fake_openai.reply(text="async hello")
    agent = make_agent(adapter)
    output = async_to_sync(agent.arun)("hi", user_id="alice", session_id="s")
    assert (output.status, output.content) == ("completed", "async hello")
    assert Run.objects.get().content == "async hello"


def test_arun_streams_deltas_and_runs_memory_tools(make_agent, adapter, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes jazz"})])
    fake_openai.reply(text="Jazz it is, noted.")
    agent = make_agent(adapter, enable_agentic_memory=True)

    async def collect() -> list:
        stream = await agent.arun(
            "I like jazz", user_id="alice", session_id="s", stream=True, stream_events=True
        )
        return [event async for event in stream]

    events = async_to_sync(collect)()
    assert "".join(e.content for e in events if isinstance(e, RunContent)) == "Jazz it is, noted."
    assert isinstance(events[-1], RunCompleted)
    assert [m.memory for m in agent.get_user_memories("alice")] == ["User likes jazz"]


def test_state_readers_return_plain_records(make_agent, fake_openai):
    fake_openai.reply(text="hi there")
    agent = make_agent("chat")
    output = agent.run("hello", user_id="alice", session_id="thread-7")

    session = agent.get_session("thread-7")
    assert (session.session_id, session.user_id, session.agent_name) == ("thread-7", "alice", "agent")
    assert [(m.role, m.content) for m in agent.get_chat_history("thread-7")] == [
        ("user", "hello"),
        ("assistant", "hi there"),
    ]
    assert agent.get_session_summary("thread-7") is None
    assert agent.get_session("nope") is None
    assert output.session_id == "thread-7" and output.user_id == "alice"


def test_a_missing_session_id_creates_a_new_session(make_agent, fake_openai):
    fake_openai.reply(text="hi")
    output = make_agent("chat").run("hello", user_id="alice")
    assert AgentSession.objects.get().session_id == output.session_id


def test_an_empty_message_is_refused_before_anything_is_stored(make_agent, fake_openai):
    with pytest.raises(InvalidInput, match="must not be empty"):
        make_agent("chat").run("   ", user_id="alice", session_id="s")
    assert Run.objects.count() == 0
    assert fake_openai.requests == []


def test_an_agent_without_db_keeps_its_state_in_process_memory():
    from agentapp.agent import InMemoryDb

    assert isinstance(Agent(db=None).db, InMemoryDb)


def test_the_default_model_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("AGENT_MODEL", raising=False)
    assert Agent(db=DjangoDb()).model.provider == "demo"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("AGENT_MODEL", "chat:llama3.2")
    model = Agent(db=DjangoDb()).model
    assert (model.provider, model.id) == ("openai-chat", "llama3.2")


def test_a_setting_reads_and_changes_as_an_attribute_and_the_next_run_takes_it(make_agent, fake_openai):
    agent = make_agent("chat", markdown=False, instructions="Be brief.")
    assert (agent.markdown, agent.settings.markdown, agent.id) == (False, False, "agent")

    agent.markdown = True
    fake_openai.reply(text="**hi**")
    agent.run("hello", user_id="alice", session_id="s")

    assert agent.settings.markdown is True
    assert "Use markdown" in fake_openai.requests[-1].body["messages"][0]["content"]
    with pytest.raises(ValueError, match="num_history_runs"):
        agent.num_history_runs = -1
    assert agent.num_history_runs == 3  # a refused change leaves the setting as it was
    with pytest.raises(AttributeError):
        agent.no_such_setting  # noqa: B018
