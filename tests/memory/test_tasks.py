"""Automatic memory as a Celery task: enqueued on commit, applied once, transient errors retried, capped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agentapp.errors import FollowupFailed
from memory_app import selectors, services, tasks
from memory_app.models import Memory, MemoryChange, MemoryExtraction
from memory_app.tasks import memory_update_for_run
from sessions_app.models import Run

pytestmark = pytest.mark.django_db

ADD_FACT = [("add_memory", {"memory": "User is called Sarah", "topics": ["name"]})]


@pytest.fixture
def finished_run(make_agent, fake_openai, settings):
    """A completed run whose automatic memory update was handed to the worker, not done inline."""
    settings.AGENT_BACKGROUND_TASKS = "celery"

    def make() -> Run:
        fake_openai.reply(text="Nice to meet you.")
        agent = make_agent("chat", update_memory_on_run=True)
        output = agent.run("I'm Sarah", user_id="sarah", session_id="t")
        return Run.objects.get(run_id=output.run_id)

    return make


def test_the_reply_does_not_wait_for_the_memory_update_it_is_enqueued_on_commit(
    make_agent, fake_openai, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    fake_openai.reply(text="Nice to meet you.")

    with django_capture_on_commit_callbacks() as callbacks:
        output = make_agent("chat", update_memory_on_run=True).run(
            "I'm Sarah", user_id="sarah", session_id="t"
        )

    assert output.status == "completed" and output.content == "Nice to meet you."
    sent = [(cb.func.__self__.name, cb.args) for cb in callbacks]
    assert sent == [("memory.update_for_run", (output.run_id,)), ("sessions.title_for_session", ("t",))]
    assert len(fake_openai.requests) == 1  # only the reply: the memory manager has not run
    assert not Memory.objects.exists()


def test_the_task_applies_the_runs_extraction_once_even_when_it_runs_twice(
    finished_run, fake_openai, task_model
):
    run = finished_run()
    fake_openai.reply(tool_calls=ADD_FACT)
    fake_openai.reply(text="Done.")

    assert memory_update_for_run(run.run_id) == "done"
    assert memory_update_for_run(run.run_id) == "skipped"

    assert [m.text for m in Memory.objects.all()] == ["User is called Sarah"]
    change = MemoryChange.objects.get()
    assert change.actor == "memory_manager" and change.run == run
    assert len(fake_openai.requests) == 3  # the reply and one memory-manager exchange, not two
    extraction = MemoryExtraction.objects.get(run=run)
    assert extraction.state == "done" and extraction.attempts == 1 and extraction.finished_at


def test_a_transient_model_error_hands_the_run_back_for_a_retry(finished_run, fake_openai, task_model):
    run = finished_run()
    fake_openai.reply(status=503, error="overloaded")

    with pytest.raises(FollowupFailed):
        memory_update_for_run(run.run_id)

    extraction = MemoryExtraction.objects.get(run=run)
    assert extraction.state == "retrying" and "overloaded" in extraction.error
    fake_openai.reply(tool_calls=ADD_FACT)
    fake_openai.reply(text="Done.")
    assert memory_update_for_run(run.run_id) == "done"
    assert Memory.objects.count() == 1
    assert MemoryExtraction.objects.get(run=run).attempts == 2


def test_celery_retries_transient_errors_until_the_update_succeeds(finished_run, fake_openai, task_model):
    run = finished_run()
    fake_openai.reply(status=500, error="boom")
    fake_openai.reply(status=429, error="slow down")
    fake_openai.reply(tool_calls=ADD_FACT)
    fake_openai.reply(text="Done.")

    result = memory_update_for_run.apply(args=[run.run_id])

    assert result.get() == "done"
    assert Memory.objects.count() == 1
    assert MemoryExtraction.objects.get(run=run).attempts == 3


def test_retries_stop_at_the_cap_and_the_extraction_is_marked_failed(finished_run, fake_openai, task_model):
    run = finished_run()
    before = len(fake_openai.requests)
    for _ in range(tasks.MAX_RETRIES + 2):
        fake_openai.reply(status=500, error="still down")

    result = memory_update_for_run.apply(args=[run.run_id])

    assert result.get() == "failed"
    assert len(fake_openai.requests) - before == tasks.MAX_RETRIES + 1
    extraction = MemoryExtraction.objects.get(run=run)
    assert extraction.state == "failed" and extraction.attempts == tasks.MAX_RETRIES + 1
    assert memory_update_for_run(run.run_id) == "skipped"


def test_a_permanent_model_error_is_not_retried(finished_run, fake_openai, task_model):
    run = finished_run()
    fake_openai.reply(status=400, error="bad request")

    assert memory_update_for_run.apply(args=[run.run_id]).get() == "failed"

    assert MemoryExtraction.objects.get(run=run).attempts == 1
    assert len(fake_openai.requests) == 2


def test_a_claim_left_by_a_dead_worker_can_be_taken_over_but_a_live_one_cannot(finished_run):
    run = finished_run()
    assert services.memory_extraction_claim(run_id=run.run_id, lease=timedelta(minutes=5)).claimed
    assert not services.memory_extraction_claim(run_id=run.run_id, lease=timedelta(minutes=5)).claimed

    MemoryExtraction.objects.filter(run=run).update(claimed_at=timezone.now() - timedelta(minutes=6))

    assert services.memory_extraction_claim(run_id=run.run_id, lease=timedelta(minutes=5)).claimed


def test_a_run_that_no_longer_exists_is_skipped(db):
    assert memory_update_for_run("run_gone") == "missing"


def test_a_redelivery_that_finds_the_claim_held_comes_back_when_the_claim_expires(
    finished_run, fake_openai, task_model, settings
):
    """Was: a task redelivered after its worker's pool child was killed found the claim `running`,
    skipped, and the update was never applied."""
    run = finished_run()
    settings.AGENT_FOLLOWUP_LEASE_SECONDS = 60
    assert services.memory_extraction_claim(run_id=run.run_id, lease=timedelta(seconds=60)).claimed
    MemoryExtraction.objects.filter(run=run).update(claimed_at=timezone.now() - timedelta(seconds=20))

    outcome = services.memory_extraction_perform(run_id=run.run_id, update=lambda: None, may_retry=True)

    assert outcome.status == "busy" and 35 <= outcome.retry_in <= 41  # when the killed claim expires
    assert MemoryExtraction.objects.get(run=run).state == "running"  # still the first claim's


def test_the_sweep_sends_again_the_memory_updates_whose_claim_expired(finished_run, settings):
    run = finished_run()
    lease = timedelta(seconds=settings.AGENT_FOLLOWUP_LEASE_SECONDS)
    services.memory_extraction_claim(run_id=run.run_id, lease=lease)
    window = {"settled_before": timedelta(0), "horizon": timedelta(days=1), "lease": lease}
    assert selectors.runs_missing_memory_update(**window) == []  # a live claim: its worker is on it

    MemoryExtraction.objects.filter(run=run).update(claimed_at=timezone.now() - lease - timedelta(seconds=1))

    assert selectors.runs_missing_memory_update(**window) == [run.run_id]
