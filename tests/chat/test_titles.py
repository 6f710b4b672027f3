"""Automatic session titles: the task asks the model for a few words; first words otherwise."""

from __future__ import annotations

import pytest

from agentapp import app_agent
from agentapp.agent.session.titles import title_from_text
from sessions_app import services
from sessions_app.models import AgentSession
from sessions_app.tasks import session_title_for_session
from tests import factories

pytestmark = pytest.mark.django_db

FIRST = "Can you help me plan a week of vegetarian dinners for two people?"


@pytest.fixture
def untitled(alice):
    session = factories.session(alice, "s1")
    factories.run(session, FIRST, content="Sure.")
    return session


def test_the_task_titles_a_session_with_the_models_few_words(untitled, app_model):
    app_model.reply(text='Title: "Vegetarian Dinner Planning."')
    session_title_for_session("s1")
    untitled.refresh_from_db()
    assert untitled.title == "Vegetarian Dinner Planning"
    request = app_model.requests[0].body
    assert FIRST in str(request["messages"]) and "3 to 6 words" in str(request["messages"])


def test_when_the_model_fails_the_title_is_the_first_words(untitled, app_model):
    app_model.reply(status=400, error="no")
    session_title_for_session("s1")
    untitled.refresh_from_db()
    assert untitled.title == "Can you help me plan a…"


def test_a_rambling_answer_is_not_used_as_a_title(untitled, app_model):
    app_model.reply(text="Well, " + "this conversation is about many things " * 5)
    session_title_for_session("s1")
    untitled.refresh_from_db()
    assert untitled.title == "Can you help me plan a…"


def test_a_session_someone_named_keeps_its_name(untitled, app_model):
    services.session_rename(session=untitled, title="Dinners")
    session_title_for_session("s1")
    untitled.refresh_from_db()
    assert untitled.title == "Dinners" and app_model.requests == []


def test_the_demo_model_is_not_asked_for_a_title(untitled, settings):
    from agentapp.app_agent import configured_model

    settings.AGENT_MODEL = "demo"
    configured_model.cache_clear()
    try:
        session_title_for_session("s1")
    finally:
        configured_model.cache_clear()
    untitled.refresh_from_db()
    assert untitled.title == "Can you help me plan a…"


def test_with_workers_the_first_run_of_a_session_enqueues_its_title_task_on_commit(
    alice, app_model, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    app_model.reply(text="Sure.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        app_agent.agent().run(FIRST, user_id="alice", session_id="s2")

    sent = [(cb.func.__self__.name, cb.args) for cb in callbacks]
    assert sent == [("sessions.title_for_session", ("s2",))]
    assert AgentSession.objects.get(session_id="s2").title == ""
    assert len(app_model.requests) == 1  # the reply; the worker asks for the title


def test_without_workers_a_first_run_titles_its_session_with_the_first_words(alice, app_model):
    app_model.reply(text="Sure.")
    app_agent.agent().run(FIRST, user_id="alice", session_id="s2")

    assert AgentSession.objects.get(session_id="s2").title == "Can you help me plan a…"
    assert len(app_model.requests) == 1  # no second model call for it


def test_a_titled_session_gets_no_title_job(alice, app_model, settings, django_capture_on_commit_callbacks):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    AgentSession.objects.create(session_id="s3", user=alice, title="Dinners")
    app_model.reply(text="Sure.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        app_agent.agent().run(FIRST, user_id="alice", session_id="s3")

    assert callbacks == []


def test_first_words_are_short_and_marked_when_cut():
    assert title_from_text("Hello there") == "Hello there"
    assert title_from_text("one two three four five six seven") == "one two three four five six…"
    assert len(title_from_text("x" * 500)) == 60
