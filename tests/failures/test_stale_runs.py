"""A run whose process died stays `running` only until the sweep: then it is `error`, its message kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agentapp.celery import app as celery_app
from agentapp.db import DjangoDb
from sessions_app import services
from sessions_app.models import Message, Run
from sessions_app.tasks import sweep_stale_runs

pytestmark = pytest.mark.django_db


def _interrupted_run(message: str = "Plan my trip to Lisbon", session_id: str = "trip") -> Run:
    """A run begun the way the agent begins one, whose process then died: nothing ever finishes it."""
    handle = DjangoDb().run_begin(
        user_id="sarah",
        session_id=session_id,
        agent_name="agent",
        message=message,
        model_id="gpt-test",
        model_provider="openai",
    )
    return Run.objects.get(run_id=handle.run_id)


def _age(run: Run, minutes: int) -> None:
    then = timezone.now() - timedelta(minutes=minutes)
    Run.objects.filter(pk=run.pk).update(created_at=then, started_at=then if run.started_at else None)


def test_a_run_left_running_is_marked_error_by_the_sweep_after_the_threshold_but_not_before():
    run = _interrupted_run()
    _age(run, 10)

    assert services.runs_sweep_stale(older_than=timedelta(minutes=15)) == 0
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING

    _age(run, 20)
    assert services.runs_sweep_stale(older_than=timedelta(minutes=15)) == 1

    run.refresh_from_db()
    assert run.status == Run.Status.ERROR
    assert run.error.startswith("The run was interrupted")
    assert run.ended_at is not None
    message = Message.objects.get(run=run)
    assert (message.role, message.content) == ("user", "Plan my trip to Lisbon")


def test_a_pending_run_nobody_claimed_is_swept_as_well():
    user = services.user_get_or_create(username="sarah")
    session = services.session_create(user=user)
    run = services.run_create(session=session, input="Hello?", status=Run.Status.PENDING)
    _age(run, 30)

    assert services.runs_sweep_stale(older_than=timedelta(minutes=15)) == 1
    run.refresh_from_db()
    assert run.status == Run.Status.ERROR and run.messages.get().content == "Hello?"


def test_the_sweep_leaves_finished_and_recent_runs_alone(make_agent, fake_openai):
    fake_openai.reply(text="Done.")
    finished = make_agent().run("Hi", user_id="sarah", session_id="s1")
    recent = _interrupted_run(session_id="s2")
    Run.objects.update(created_at=timezone.now() - timedelta(hours=2))
    Run.objects.filter(pk=recent.pk).update(started_at=timezone.now())

    assert services.runs_sweep_stale(older_than=timedelta(minutes=15)) == 0
    assert Run.objects.get(run_id=finished.run_id).status == Run.Status.COMPLETED
    assert Run.objects.get(pk=recent.pk).status == Run.Status.RUNNING


def test_the_periodic_task_uses_the_configured_threshold(settings):
    settings.AGENT_STALE_RUN_SECONDS = 600
    settings.AGENT_BACKGROUND_TASKS = "inline"
    old, young = _interrupted_run(session_id="old"), _interrupted_run(session_id="young")
    _age(old, 11)
    _age(young, 9)

    # The interrupted run's chat, with no reply to title it, is titled from its first message.
    assert sweep_stale_runs() == {
        "stale": 1,
        "orphaned": 0,
        "titled": 1,
        "frames": 0,
        "temporary": 0,
        "deleted": 0,
    }
    assert Run.objects.get(pk=old.pk).status == Run.Status.ERROR
    assert Run.objects.get(pk=young.pk).status == Run.Status.RUNNING


def test_celery_beat_runs_the_sweep_every_minute():
    entry = celery_app.conf.beat_schedule["sweep-stale-runs"]
    assert entry["task"] == "sessions.sweep_stale_runs" and entry["schedule"] <= 60
    assert "sessions.sweep_stale_runs" in celery_app.tasks


def test_the_sweep_forgets_the_live_frames_of_runs_that_ended_long_ago_and_keeps_recent_ones(settings):
    from sessions_app import jobs
    from sessions_app.models import RunFrame

    old, recent = _interrupted_run(session_id="old"), _interrupted_run(session_id="recent")
    for run in (old, recent):
        services.run_frames_add(run_id=run.run_id, frames=[(0, "RunContent", {"content": "hi"})])
    horizon = settings.AGENT_FOLLOWUP_HORIZON_SECONDS
    Run.objects.filter(pk=old.pk).update(
        status="completed", ended_at=timezone.now() - timedelta(seconds=horizon + 60)
    )
    Run.objects.filter(pk=recent.pk).update(status="completed", ended_at=timezone.now())

    assert jobs.sweep()["frames"] == 1
    assert list(RunFrame.objects.values_list("run_id", flat=True)) == [recent.pk]
    assert Run.objects.get(pk=old.pk).status == "completed"  # the run itself stays


def _streamed(run: Run, *pieces: str) -> None:
    """What a web process driving the run stored of it before it died: its frames so far."""
    frames = [(0, "RunStarted", {"event": "RunStarted", "run_id": run.run_id})]
    for seq, piece in enumerate(pieces, start=1):
        frames.append((seq, "RunContent", {"event": "RunContent", "run_id": run.run_id, "content": piece}))
    services.run_frames_add(run_id=run.run_id, frames=frames)


def test_a_streamed_run_whose_lease_is_free_is_ended_by_the_sweep_with_its_text(settings):
    import psycopg
    from django.db import connection

    from agentapp.platform.database import libpq_params
    from sessions_app.models import LEASE_KEY

    settings.AGENT_BACKGROUND_TASKS = "inline"
    abandoned, driven = _interrupted_run(session_id="abandoned"), _interrupted_run(session_id="driven")
    for run in (abandoned, driven):
        _streamed(run, "Lisbon in three days: ", "start at the Alfama")
        _age(run, 1)  # past the lease's lapse, far from the stale-run threshold
    with psycopg.connect(**libpq_params(connection), autocommit=True) as driver:  # a live web process
        driver.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [LEASE_KEY, driven.run_id])

        counts = sweep_stale_runs()

    assert counts["orphaned"] == 1 and counts["stale"] == 0
    run = Run.objects.get(pk=abandoned.pk)
    assert run.status == Run.Status.ERROR and "stopped before it finished" in run.error
    assert run.content == "Lisbon in three days: start at the Alfama"
    assert list(Message.objects.filter(run=run).values_list("role", "content")) == [
        ("user", "Plan my trip to Lisbon"),
        ("assistant", "Lisbon in three days: start at the Alfama"),
    ]
    assert run.frames.order_by("-seq").first().event == "RunError"  # a stream following it gets its end
    assert Run.objects.get(pk=driven.pk).status == Run.Status.RUNNING
