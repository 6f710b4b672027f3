"""Background session work. Tasks take ids, rebuild the app's agent and call one method."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction

from agentapp.llm import ModelError

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="sessions.summary_update",
    acks_late=True,
    autoretry_for=(ModelError,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def session_summary_update(self, session_id: str) -> None:
    """Fold the session's new runs into its summary; idempotent, so a redelivery is harmless."""
    from agentapp.app_agent import app_agent

    agent = app_agent()
    workers = settings.AGENT_BACKGROUND_TASKS == "celery"
    try:
        update = agent.update_session_summary(session_id)
        while update.pending and not workers:
            update = agent.update_session_summary(session_id)
    except ModelError as error:
        if error.transient:
            raise  # autoretry_for: backoff with jitter, at most max_retries
        logger.warning("summary of session %s not updated: %s", session_id, error.message)
        return
    if update.pending:  # a long backlog (a full recompute): go on in a fresh task, each one bounded
        session_summary_update.delay(session_id)


@shared_task(name="sessions.title_for_session", acks_late=True, soft_time_limit=30, time_limit=45)
def session_title_for_session(session_id: str) -> None:
    """Give an untitled session a short title; idempotent (a titled session is left alone)."""
    from sessions_app.titles import session_title_generate

    session_title_generate(session_id=session_id)


class _Publisher:
    """Sends one task and logs, never raises, a broker failure; named after the task like Celery's own."""

    def __init__(self, task: Any) -> None:
        self.task = task
        self.name = task.name

    def delay(self, *args: Any) -> int:
        try:
            self.task.apply_async(args)
        except Exception as exc:  # kombu's OperationalError, a timeout, a refused connection...
            logger.warning("could not enqueue %s%r (the sweep will retry): %s", self.name, args, exc)
            return 0
        return 1


def enqueue(task: Any, *args: Any, on_commit: bool = False) -> int:
    """Send a task; a broker that is down is logged, never raised (the sweep enqueues it again later).

    With on_commit, it is sent once the current transaction commits (as `delay_on_commit` does).
    Returns 1 when sent (or scheduled on commit), 0 when the broker refused it.
    """
    publisher = _Publisher(task)
    if on_commit:
        transaction.on_commit(partial(publisher.delay, *args))
        return 1
    return publisher.delay(*args)


@shared_task(name="sessions.sweep_stale_runs", acks_late=True, soft_time_limit=50, time_limit=60)
def sweep_stale_runs() -> dict[str, int]:
    """Periodic (Celery beat): end runs a dead process left running; enqueue follow-ups a down broker lost."""
    from datetime import timedelta

    from .services import followups_enqueue_missed, runs_sweep_stale

    stale = runs_sweep_stale(older_than=timedelta(seconds=settings.AGENT_STALE_RUN_SECONDS))
    if stale:
        logger.warning("marked %d interrupted run(s) as error", stale)
    counts = {"stale": stale}
    if settings.AGENT_BACKGROUND_TASKS == "celery":
        counts.update(
            followups_enqueue_missed(
                settled_before=timedelta(seconds=settings.AGENT_FOLLOWUP_GRACE_SECONDS),
                horizon=timedelta(seconds=settings.AGENT_FOLLOWUP_HORIZON_SECONDS),
            )
        )
    return counts
