"""The periodic sweep deletes a temporary chat AGENT_TEMPORARY_CHAT_DAYS after it began, with its
runs, messages, events, frames, summary and feedback, in batches; ordinary chats, and temporary ones
not yet due, stay. Through the task, and through a real Celery worker on Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agentapp.celery import app as celery_app
from sessions_app import services
from sessions_app.models import AgentSession, Message, Run, RunEvent, RunFeedback, RunFrame, SessionSummary
from sessions_app.tasks import sweep_stale_runs
from tests import factories
from tests.redis_support import redis_worker

OWN_REDIS = "redis://127.0.0.1:6379/13"


def _chat(session_id: str, *, temporary: bool, days_old: float, username: str = "alice") -> AgentSession:
    """A chat begun `days_old` days ago with one finished run: its messages, an event, a live frame,
    a summary and the person's feedback on the reply."""
    session = services.session_get_or_create_for_run(
        session_id=session_id, username=username, temporary=temporary
    )
    run = factories.finished_run(session, "Hello", "Hi there.")
    services.run_events_add(
        run_pk=run.pk, events=[{"kind": "model", "name": "reply", "started_at": timezone.now()}]
    )
    services.run_frames_add(run_id=run.run_id, frames=[(0, "RunContent", {"content": "Hi"})])
    SessionSummary.objects.create(session=session, text="A greeting.", last_run=run)
    RunFeedback.objects.create(run=run, user=session.user, rating=RunFeedback.Rating.UP)
    AgentSession.objects.filter(pk=session.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    return session


def _left() -> set[str]:
    return set(AgentSession.objects.values_list("session_id", flat=True))


@pytest.mark.django_db
def test_a_temporary_chat_is_deleted_with_all_it_holds_once_its_days_are_up(settings):
    settings.AGENT_TEMPORARY_CHAT_DAYS = 30
    due = _chat("due", temporary=True, days_old=30.01)
    _chat("young", temporary=True, days_old=29.9)
    _chat("old-ordinary", temporary=False, days_old=400)
    due_runs = list(Run.objects.filter(session=due).values_list("pk", flat=True))

    assert services.temporary_sessions_delete(older_than=timedelta(days=30)) == 1

    assert _left() == {"young", "old-ordinary"}
    assert not Run.objects.filter(pk__in=due_runs).exists()
    for model in (Message, RunEvent, RunFrame, RunFeedback):
        assert not model.objects.filter(run_id__in=due_runs).exists(), model
    assert SessionSummary.objects.count() == 2
    assert Message.objects.count() == 4 and RunEvent.objects.count() == 2
    assert services.temporary_sessions_delete(older_than=timedelta(days=30)) == 0


@pytest.mark.django_db
def test_the_deletion_goes_in_batches_and_a_sweep_does_a_bounded_number(alice):
    for i in range(7):
        session = services.session_get_or_create_for_run(
            session_id=f"t-{i}", username="alice", temporary=True
        )
        factories.run(session, f"message {i}", content="ok")
    AgentSession.objects.update(created_at=timezone.now() - timedelta(days=40))

    # Batches of 3, at most 2 of them: the oldest 6 now, the rest next time.
    assert services.temporary_sessions_delete(older_than=timedelta(days=30), batch=3, batches=2) == 6
    assert AgentSession.objects.count() == 1
    assert services.temporary_sessions_delete(older_than=timedelta(days=30), batch=3, batches=2) == 1
    assert not AgentSession.objects.exists() and not Run.objects.exists() and not Message.objects.exists()


@pytest.mark.django_db
def test_the_periodic_task_deletes_by_the_configured_days(settings):
    settings.AGENT_BACKGROUND_TASKS = "inline"
    settings.AGENT_TEMPORARY_CHAT_DAYS = 7
    _chat("week-old", temporary=True, days_old=7.1)
    _chat("six-days", temporary=True, days_old=6)

    assert sweep_stale_runs() == {
        "stale": 0,
        "orphaned": 0,
        "titled": 0,
        "frames": 0,
        "temporary": 1,
        "deleted": 0,
    }
    assert _left() == {"six-days"}


def test_the_sweep_runs_every_minute_under_beat():
    entry = celery_app.conf.beat_schedule["sweep-stale-runs"]
    assert entry["task"] == "sessions.sweep_stale_runs" and entry["schedule"] <= 60


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_deletes_the_temporary_chats_whose_time_is_up(settings):
    settings.AGENT_BACKGROUND_TASKS = "inline"  # only the deletion: no missed follow-up to send
    settings.AGENT_TEMPORARY_CHAT_DAYS = 30
    _chat("due", temporary=True, days_old=31)
    _chat("young", temporary=True, days_old=1)
    _chat("ordinary", temporary=False, days_old=31)

    with redis_worker("agentapp-temporary-test", OWN_REDIS):
        counts = sweep_stale_runs.apply_async(ignore_result=False).get(timeout=20)

    assert counts["temporary"] == 1
    assert _left() == {"young", "ordinary"}
    assert Run.objects.count() == 2 and Message.objects.count() == 4
