"""Agno's identity and threads: `user_id` and `session_id` as the Agent's defaults, a generated
session kept so the next run continues the thread, a default user, and no db needed."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from agentapp.agent import Agent, InMemoryDb, SessionOwnedByAnotherUser
from agentapp.db import DjangoDb
from tests.fake_openai import Reply


@pytest.fixture
def replying(fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    return fake_openai


def sent_texts(request) -> list[str]:
    return [m["content"] for m in request.body["messages"] if m["role"] in ("user", "assistant")]


def test_two_turns_without_ids_are_one_thread_of_the_default_user(replying, make_model):
    agent = Agent(model=make_model("chat"), add_history_to_context=True)  # no db: this process's memory

    first = agent.run("My name is Sarah")
    second = agent.run("What is my name?")

    assert first.session_id == second.session_id == agent.session_id
    assert first.user_id == second.user_id == "default"
    assert sent_texts(replying.requests[-1]) == ["My name is Sarah", "ok", "What is my name?"]
    assert isinstance(agent.db, InMemoryDb)
    assert [m.content for m in agent.get_chat_history(agent.session_id)][:2] == ["My name is Sarah", "ok"]


@pytest.mark.django_db
def test_the_agents_user_and_session_are_the_defaults_of_every_run(replying, make_model, django_user_model):
    agent = Agent(model=make_model("chat"), db=DjangoDb(), user_id="sarah", session_id="thread-1")

    output = agent.run(input="hello")

    assert (output.user_id, output.session_id) == ("sarah", "thread-1")
    assert agent.get_session("thread-1").user_id == "sarah"
    other = agent.run("hello again", session_id="thread-2")
    assert (other.user_id, other.session_id) == ("sarah", "thread-2")


@pytest.mark.django_db
def test_a_generated_session_continues_on_django_db_too(replying, make_model):
    agent = Agent(model=make_model("chat"), db=DjangoDb(), add_history_to_context=True)

    first = agent.run("one", user_id="sarah")
    second = agent.run("two", user_id="sarah")

    assert first.session_id == second.session_id and first.session_id.startswith("ses_")
    assert sent_texts(replying.requests[-1]) == ["one", "ok", "two"]


@pytest.mark.django_db
def test_another_persons_session_is_still_refused(replying, make_model):
    agent = Agent(model=make_model("chat"), db=DjangoDb())
    agent.run("mine", user_id="sarah", session_id="sarahs")

    with pytest.raises(SessionOwnedByAnotherUser):
        agent.run("let me in", user_id="mallory", session_id="sarahs")


def test_a_kept_session_is_never_handed_to_the_next_person(replying, make_model):
    agent = Agent(model=make_model("chat"), db=InMemoryDb())

    sarahs = agent.run("hi", user_id="sarah")
    bobs = agent.run("hi", user_id="bob")

    assert sarahs.session_id != bobs.session_id and agent.session_id == bobs.session_id
    assert agent.get_session(sarahs.session_id).user_id == "sarah"


def test_arun_keeps_the_thread_too(replying, make_model):
    agent = Agent(model=make_model("chat"), add_history_to_context=True)

    first = async_to_sync(agent.arun)("one")
    second = async_to_sync(agent.arun)("two")

    assert first.session_id == second.session_id
