"""Agno's `fork_session`: a session branched into a new one on either storage; the copy continues on
its own (its history is the source's), the source is untouched, and only its person may fork it."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from agentapp.agent import InvalidInput, SessionOwnedByAnotherUser


def test_a_fork_holds_the_sources_runs_and_goes_its_own_way(agent_on, fake_openai):
    agent = agent_on(user_id="alice", add_history_to_context=True, session_state={"plan": "trip"})
    fake_openai.reply(text="Lisbon is lovely in May.")
    first = agent.run("Where should I travel in May?", session_id="trip")
    agent.set_session_name(session_id="trip", session_name="Spring trip")

    forked = agent.fork_session(source_session_id="trip")

    assert forked != "trip"
    copy = agent.get_session(forked)
    source = agent.get_session("trip")
    assert copy.title == "Spring trip" and copy.session_state == {"plan": "trip"}
    assert [r.content for r in copy.runs] == [r.content for r in source.runs] == ["Lisbon is lovely in May."]
    assert copy.runs[0].run_id != first.run_id  # new run ids
    assert [m.content for m in agent.get_chat_history(session_id=forked)] == [
        m.content for m in agent.get_chat_history(session_id="trip")
    ]

    fake_openai.reply(text="Then Porto too.")
    agent.run("And after Lisbon?", session_id=forked)

    history = fake_openai.requests[-1].body["messages"]
    assert [m["content"] for m in history if m["role"] == "assistant"] == ["Lisbon is lovely in May."]
    assert len(agent.get_session("trip").runs) == 1  # the source did not move
    assert len(agent.get_session(forked).runs) == 2


def test_the_agents_own_session_and_user_are_the_defaults_and_async_too(agent_on, fake_openai):
    agent = agent_on(user_id="alice", session_id="greeting")
    fake_openai.reply(text="Hello.")
    agent.run("Hi")

    forked = async_to_sync(agent.afork_session)()

    assert [r.content for r in agent.get_session(forked).runs] == ["Hello."]
    assert agent.get_session(forked).user_id == "alice"


def test_another_persons_session_is_refused_and_an_empty_one_has_nothing_to_fork(agent_on, fake_openai):
    alice = agent_on(user_id="alice")
    fake_openai.reply(text="Noted.")
    alice.run("My secret plan", session_id="alices")

    with pytest.raises(SessionOwnedByAnotherUser):
        agent_on(user_id="mallory").fork_session(source_session_id="alices")
    with pytest.raises(InvalidInput, match="no runs to fork"):
        alice.fork_session(source_session_id="nothing-here")
    with pytest.raises(ValueError, match="source_session_id is required"):
        agent_on(user_id="bob").fork_session()
