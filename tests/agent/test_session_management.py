"""Reading and managing a session from the Agent, as Agno's documented helpers do, on both storages."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from agentapp.agent import Agent, InMemoryDb, SessionOwnedByAnotherUser
from agentapp.db import DjangoDb


@pytest.fixture(params=[pytest.param("django", marks=pytest.mark.django_db), "in_memory"])
def agent(request, make_model):
    db = DjangoDb() if request.param == "django" else InMemoryDb()
    return Agent(model=make_model("chat"), db=db, user_id="sarah", enable_agentic_memory=True)


@pytest.fixture
def two_turns(agent, fake_openai):
    fake_openai.reply(text="Hello Sarah.", usage=(10, 3))
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes tea"})], usage=(20, 5))
    fake_openai.reply(text="Noted: tea.", usage=(30, 4))
    first = agent.run("Hi, I'm Sarah")
    second = agent.run("I like tea")
    return first, second


def test_the_session_comes_with_its_runs(agent, two_turns):
    first, second = two_turns

    session = agent.get_session()

    assert session.session_id == agent.session_id and session.user_id == "sarah"
    assert [r.run_id for r in session.runs] == [first.run_id, second.run_id]
    assert [r.content for r in session.runs] == ["Hello Sarah.", "Noted: tea."]


def test_chat_history_is_the_user_and_the_assistant_and_can_be_cut_to_the_last_runs(agent, two_turns):
    history = agent.get_chat_history()

    assert [(m.role, m.content) for m in history] == [
        ("user", "Hi, I'm Sarah"),
        ("assistant", "Hello Sarah."),
        ("user", "I like tea"),
        ("assistant", "Noted: tea."),
    ]
    assert [m.content for m in agent.get_chat_history(last_n_runs=1)] == ["I like tea", "Noted: tea."]
    every = agent.get_session_messages()
    assert [m.role for m in every].count("tool") == 1 and len(every) > len(history)


def test_run_outputs_and_metrics_come_back_from_storage(agent, two_turns):
    first, second = two_turns

    assert agent.get_last_run_output().run_id == second.run_id
    again = agent.get_run_output(first.run_id)
    assert (again.content, again.status, again.input) == ("Hello Sarah.", "completed", "Hi, I'm Sarah")
    assert agent.get_run_output("run_missing") is None
    metrics = agent.get_session_metrics()
    assert (metrics.runs, metrics.input_tokens, metrics.output_tokens) == (2, 60, 12)
    assert metrics.total_tokens == 72


def test_naming_a_session_by_hand_or_from_its_first_message(agent, two_turns, fake_openai):
    assert agent.set_session_name(session_name="Tea talk").title == "Tea talk"
    assert agent.get_session_name() == "Tea talk"

    fake_openai.reply(text="Sarah says hello")
    assert agent.set_session_name(autogenerate=True).session_data["session_name"] == "Sarah says hello"


def test_deleting_a_session_keeps_the_persons_memories(agent, two_turns):
    session_id = agent.session_id

    assert agent.delete_session(session_id) is True

    assert agent.get_session(session_id) is None and agent.session_id is None
    assert agent.delete_session(session_id) is False
    assert [m.memory for m in agent.get_user_memories("sarah")] == ["User likes tea"]


def test_another_persons_session_stays_theirs(agent, two_turns):
    with pytest.raises(SessionOwnedByAnotherUser):
        agent.get_chat_history(agent.session_id, user_id="mallory")
    with pytest.raises(SessionOwnedByAnotherUser):
        agent.delete_session(agent.session_id, user_id="mallory")


def test_the_async_twins(agent, two_turns):
    _first, second = two_turns

    async def read():
        return (
            await agent.aget_last_run_output(),
            await agent.aget_chat_history(last_n_runs=1),
            await agent.aget_session_metrics(),
            await agent.aget_session(),
        )

    last, history, metrics, session = async_to_sync(read)()

    assert last.run_id == second.run_id and history[0].content == "I like tea"
    assert metrics.runs == 2 and len(session.runs) == 2
