"""Background session work: tasks take ids and call one job (sessions_app.jobs)."""

from __future__ import annotations

from celery import shared_task

from agentapp.errors import FollowupFailed

from . import jobs


@shared_task(
    name="sessions.summary_update",
    acks_late=True,
    autoretry_for=(FollowupFailed,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def session_summary_update(session_id: str) -> None:
    """Fold the session's new runs into its summary; idempotent, so a redelivery is harmless."""
    jobs.summary_update(session_id)


@shared_task(name="sessions.title_for_session", acks_late=True, soft_time_limit=30, time_limit=45)
def session_title_for_session(session_id: str) -> None:
    """Give an untitled session a short title; idempotent (a titled session is left alone)."""
    jobs.title_session(session_id)


@shared_task(name="sessions.sweep_stale_runs", acks_late=True, soft_time_limit=50, time_limit=60)
def sweep_stale_runs() -> dict[str, int]:
    """Periodic (Celery beat): end runs a dead process left running; send again what a down broker lost;
    delete the temporary chats whose time is up."""
    return jobs.sweep()
