"""The summary task against the loopback model: incremental folds, idempotence, retries."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from agentapp.agent import Agent
from agentapp.agent.session.summaries import update_summary
from agentapp.db import DjangoDb
from agentapp.llm import Message, ModelResponse, ToolSpec
from sessions_app.models import RunEvent, SessionSummary
from sessions_app.services import session_summary_save
from sessions_app.tasks import session_summary_update
from tests.fake_openai import Reply
from tests.summaries.conftest import is_summary_request, summary_input, summary_turns

pytestmark = pytest.mark.django_db


def test_the_first_summary_folds_every_completed_run(summaries, thread):
    first = thread.add("I am planning a trip to Lisbon")
    second = thread.add("What should I eat there?")

    session_summary_update(thread.session_id)

    summary = SessionSummary.objects.get(session=thread.session)
    assert summary.text == "Summary 1."
    assert summary.topics == ["travel", "food"]
    assert summary.last_run == second
    [request] = summaries.requests
    body = summary_input(request)
    assert "(none yet)" in body
    assert first.input in body and second.input in body and "reply to What should I eat there?" in body
    assert request.body.get("tools") in (None, [])


def test_the_second_summary_request_holds_the_old_summary_and_only_the_new_runs(summaries, thread):
    old = [thread.add("I am planning a trip to Lisbon"), thread.add("What should I eat there?")]
    session_summary_update(thread.session_id)
    new = [thread.add("Book me a hotel near the river"), thread.add("And a table for two")]

    session_summary_update(thread.session_id)

    assert len(summaries.requests) == 2
    body = summary_input(summaries.requests[1])
    assert "<session_summary>\nSummary 1.\nTopics: travel, food\n</session_summary>" in body
    assert all(run.input in body and run.content in body for run in new)
    assert not any(run.input in body or run.content in body for run in old)
    assert summary_turns(summaries.requests[1]) == (
        "user: Book me a hotel near the river\nassistant: reply to Book me a hotel near the river\n\n"
        "user: And a table for two\nassistant: reply to And a table for two"
    )
    summary = SessionSummary.objects.get(session=thread.session)
    assert (summary.text, summary.last_run) == ("Summary 2.", new[-1])


def test_each_fold_is_recorded_on_the_last_run_it_covers(summaries, thread):
    first, second = thread.add("one"), thread.add("two")

    session_summary_update(thread.session_id)

    event = RunEvent.objects.get(kind="summary")
    assert event.run == second
    assert event.payload["run_ids"] == [first.run_id, second.run_id]
    assert event.payload["applied"] is True and event.payload["summary"] == "Summary 1."
    assert event.input_tokens > 0 and event.output_tokens > 0
    assert event.ended_at >= event.started_at
    assert not RunEvent.objects.filter(run=first, kind="summary").exists()


def test_runs_that_did_not_complete_are_left_out(summaries, thread):
    thread.add("a failed question", reply="", status="error")
    kept = thread.add("a good question")

    session_summary_update(thread.session_id)

    body = summary_input(summaries.requests[0])
    assert "a failed question" not in body and kept.input in body


def test_a_long_run_reaches_the_model_truncated(summaries, thread):
    thread.add("start " + "x" * 10_000, reply="y" * 10_000)

    session_summary_update(thread.session_id)

    body = summary_input(summaries.requests[0])
    assert body.count("x") < 2_100 and body.count("y") < 2_100


def test_a_backlog_is_folded_in_bounded_batches(summaries, thread, make_agent):
    runs = [thread.add(f"message number {i}") for i in range(7)]
    update = update_summary(model=make_agent().model, db=DjangoDb(), session_id=thread.session_id, max_runs=3)

    assert (update.folded_runs, update.requests, update.pending) == (7, 3, False)
    bodies = [summary_input(r) for r in summaries.requests]
    assert [sum(run.input in body for run in runs) for body in bodies] == [3, 3, 1]
    assert SessionSummary.objects.get().last_run == runs[-1]


def test_running_the_task_again_without_new_runs_calls_no_model(summaries, thread):
    thread.add("hello")
    session_summary_update(thread.session_id)
    before = SessionSummary.objects.get()

    session_summary_update(thread.session_id)
    session_summary_update(thread.session_id)

    assert len(summaries.requests) == 1
    after = SessionSummary.objects.get()
    assert (after.text, after.last_run_id, after.updated_at) == (
        before.text,
        before.last_run_id,
        before.updated_at,
    )


def test_the_task_for_a_deleted_session_does_nothing(summaries, thread):
    thread.add("hello")
    session_id = thread.session_id
    thread.session.delete()

    session_summary_update(session_id)

    assert summaries.requests == []


class RacingModel:
    """Answers a summary request only after another worker has folded the same runs."""

    id = "racing"
    provider = "test"

    def __init__(self, inner, rival: Agent, session_id: str) -> None:
        self.inner, self.rival, self.session_id = inner, rival, session_id
        self.raced = False

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        if not self.raced:
            self.raced = True
            self.rival.update_session_summary(self.session_id)
        return self.inner.request(messages, tools)


def test_two_folds_racing_on_the_same_base_apply_once(summaries, thread, make_agent):
    thread.add("one")
    second = thread.add("two")
    rival = Agent(model=make_agent().model, db=DjangoDb())
    slow = Agent(model=RacingModel(make_agent().model, rival, thread.session_id), db=DjangoDb())

    update = slow.update_session_summary(thread.session_id)

    assert (update.folded_runs, update.dropped) == (0, 1)
    summary = SessionSummary.objects.get()
    assert (summary.text, summary.last_run) == ("Summary 1.", second)  # the rival's fold, kept once
    events = RunEvent.objects.filter(kind="summary").order_by("id")
    assert [e.payload["applied"] for e in events] == [True, False]
    assert slow.update_session_summary(thread.session_id).requests == 0


def test_a_save_from_a_stale_base_is_dropped(thread):
    first, second = thread.add("one").run_id, thread.add("two").run_id
    sid = thread.session.session_id

    assert session_summary_save(
        session_id=sid, text="A", topics=[], last_run_id=first, expected_last_run_id=None
    )
    assert not session_summary_save(
        session_id=sid, text="B", topics=[], last_run_id=first, expected_last_run_id=None
    )
    assert session_summary_save(
        session_id=sid, text="C", topics=["x"], last_run_id=second, expected_last_run_id=first
    )
    assert not session_summary_save(
        session_id=sid, text="D", topics=[], last_run_id=second, expected_last_run_id=first
    )
    assert not session_summary_save(
        session_id="another-thread", text="E", topics=[], last_run_id=second, expected_last_run_id=second
    )
    assert SessionSummary.objects.get().text == "C"


def test_a_server_error_makes_the_task_retry_and_then_succeed(app_model, thread):
    last = thread.add("hello")
    app_model.reply(status=503, error="overloaded", headers={"x-should-retry": "false"})
    app_model.reply(text="Summary after a retry.\nTopics: greetings")

    result = session_summary_update.apply(args=[thread.session_id])

    assert result.successful()
    assert len(app_model.requests) == 2 and all(is_summary_request(r) for r in app_model.requests)
    assert SessionSummary.objects.get().text == "Summary after a retry."
    failed, done = RunEvent.objects.filter(kind="summary", run=last).order_by("id")
    assert failed.payload["error"]["status_code"] == 503 and "applied" not in failed.payload
    assert done.payload["applied"] is True


def test_retries_stop_after_five(app_model, thread):
    thread.add("hello")
    app_model.responder = lambda request: Reply(status=503, error="down", headers={"x-should-retry": "false"})

    result = session_summary_update.apply(args=[thread.session_id])

    assert result.failed()
    assert len(app_model.requests) == 1 + 5
    assert not SessionSummary.objects.exists()


def test_a_request_the_model_refuses_is_not_retried(app_model, thread):
    thread.add("hello")
    app_model.reply(status=400, error="bad request")

    result = session_summary_update.apply(args=[thread.session_id])

    assert result.successful()
    assert len(app_model.requests) == 1
    assert not SessionSummary.objects.exists()


def test_the_task_is_registered_with_its_retry_policy():
    task = session_summary_update
    assert task.name == "sessions.summary_update"
    assert task.acks_late and task.max_retries == 5
    assert task.retry_backoff and task.retry_jitter
    assert task.soft_time_limit and task.time_limit > task.soft_time_limit


@pytest.mark.django_db(transaction=True)
def test_two_workers_folding_at_the_same_time_apply_the_fold_once(app_model, thread):
    from django.db import connection

    from agentapp import app_agent

    thread.add("one")
    last = thread.add("two")
    app_model.responder = lambda request: Reply(text="Folded.\nTopics: x", delay=0.3)
    results = []

    def worker() -> None:
        try:
            results.append(app_agent.agent().update_session_summary(thread.session_id))
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=10)

    assert len(app_model.requests) == 2  # both read the same base before either saved
    assert sorted((r.folded_runs, r.dropped) for r in results) == [(0, 1), (2, 0)]
    summary = SessionSummary.objects.get()
    assert (summary.text, summary.last_run) == ("Folded.", last)
