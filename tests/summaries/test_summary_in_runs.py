"""enable_session_summaries after each run, and add_session_summary_to_context in the next one."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from sessions_app.models import Run, RunEvent, SessionSummary
from tests.fake_openai import RecordedRequest, Reply
from tests.summaries.conftest import is_summary_request, summary_input

pytestmark = pytest.mark.django_db


def _chat_requests(fake_openai) -> list[RecordedRequest]:
    return [r for r in fake_openai.requests if not is_summary_request(r)]


def test_each_completed_run_updates_the_summary_inline(summaries, make_agent):
    agent = make_agent(enable_session_summaries=True)

    agent.run("I am planning a trip to Lisbon", user_id="alice", session_id="t")
    agent.run("What should I eat there?", user_id="alice", session_id="t")

    summary_requests = [r for r in summaries.requests if is_summary_request(r)]
    assert len(summary_requests) == 2
    assert "Lisbon" not in summary_input(summary_requests[1])  # only the new run
    assert "Summary 1." in summary_input(summary_requests[1])
    record = agent.get_session_summary("t")
    assert record.summary == "Summary 2." and record.last_run_id == Run.objects.latest("id").run_id


def test_the_context_is_instructions_memories_summary_history_then_the_new_message(summaries, make_agent):
    agent = make_agent(
        enable_session_summaries=True,
        enable_agentic_memory=True,
        add_history_to_context=True,
        num_history_runs=1,
        instructions="Be brief.",
    )
    summaries.reply(tool_calls=[("add_memory", {"memory": "User lives in Porto"})])
    summaries.reply(text="Noted.")
    agent.run("I live in Porto", user_id="alice", session_id="t")
    agent.run("Second question", user_id="alice", session_id="t")

    agent.run("Third question", user_id="alice", session_id="t")

    messages = _chat_requests(summaries)[-1].body["messages"]
    system = messages[0]["content"]
    assert messages[0]["role"] == "system"
    positions = [system.index(part) for part in ("Be brief.", "User lives in Porto", "Summary 2.")]
    assert positions == sorted(positions)
    assert [(m["role"], m["content"]) for m in messages[1:]] == [
        ("user", "Second question"),
        ("assistant", "A short reply."),
        ("user", "Third question"),
    ]
    context = RunEvent.objects.filter(kind="context").latest("id")
    names = [section["name"] for section in context.payload["sections"]]
    assert names == ["instructions", "memories", "summary", "history", "message"]


def test_without_add_session_summary_to_context_the_summary_stays_out(summaries, make_agent):
    agent = make_agent(enable_session_summaries=True, add_session_summary_to_context=False)
    agent.run("first", user_id="alice", session_id="t")

    agent.run("second", user_id="alice", session_id="t")

    assert SessionSummary.objects.exists()
    assert "Summary 1." not in str(_chat_requests(summaries)[-1].body)


def test_a_failing_summary_leaves_the_run_completed_and_records_an_error(app_model, make_agent):
    app_model.reply(text="Hello!")
    app_model.reply(status=500, error="summariser down", headers={"x-should-retry": "false"})

    output = make_agent(enable_session_summaries=True).run("hi", user_id="alice", session_id="t")

    assert output.status == "completed" and output.content == "Hello!"
    assert Run.objects.get().status == "completed"
    error = RunEvent.objects.get(kind="error")
    assert error.payload["message"].startswith("Session summary update failed")
    assert not SessionSummary.objects.exists()


def test_a_streamed_run_also_updates_the_summary(summaries, make_agent):
    agent = make_agent(enable_session_summaries=True)

    list(agent.run("hello there", user_id="alice", session_id="t", stream=True, stream_events=True))

    assert SessionSummary.objects.get().text == "Summary 1."


def test_an_async_run_also_updates_the_summary(summaries, make_agent):
    agent = make_agent(enable_session_summaries=True)

    async_to_sync(agent.arun)("hello there", user_id="alice", session_id="t")

    assert SessionSummary.objects.get().text == "Summary 1."


def test_with_workers_the_summary_task_is_enqueued_on_commit(
    app_model, make_agent, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    app_model.reply(text="Hello!")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_agent(enable_session_summaries=True).run("hi", user_id="alice", session_id="t")

    enqueued = [(cb.func.__self__.name, cb.args) for cb in callbacks]
    assert enqueued == [("sessions.summary_update", ("t",)), ("sessions.title_for_session", ("t",))]
    assert len(app_model.requests) == 1  # no summary request in the web process


def test_summaries_off_enqueue_nothing(app_model, make_agent, settings, django_capture_on_commit_callbacks):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    app_model.reply(text="Hello!")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_agent().run("hi", user_id="alice", session_id="t")

    assert [cb.func.__self__.name for cb in callbacks] == ["sessions.title_for_session"]


def test_a_reply_without_a_topics_line_keeps_the_old_topics(app_model, make_agent):
    agent = make_agent(enable_session_summaries=True)
    app_model.reply(text="Hi.")
    app_model.reply(text="Talked about Lisbon.\nTopics: travel")
    agent.run("one", user_id="alice", session_id="t")
    app_model.reply(text="Hi again.")
    app_model.responder = lambda request: Reply(text="Talked about Lisbon and food.")

    agent.run("two", user_id="alice", session_id="t")

    summary = SessionSummary.objects.get()
    assert (summary.text, summary.topics) == ("Talked about Lisbon and food.", ["travel"])


def test_the_offline_demo_model_writes_summaries_too():
    from agentapp.agent import Agent
    from agentapp.db import DjangoDb
    from agentapp.llm import DemoModel

    agent = Agent(model=DemoModel(), db=DjangoDb(), enable_session_summaries=True)
    agent.run("I love hiking in the Alps", user_id="alice", session_id="t")

    reply = agent.run("What do you know about me?", user_id="alice", session_id="t")

    text = SessionSummary.objects.get().text
    assert reply.status == "completed" and not reply.content.startswith("Summary")
    assert text.startswith("Summary (offline demo): user: What do you know about me?")
    assert "session_summary" not in text
