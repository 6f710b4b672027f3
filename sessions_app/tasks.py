"""Background session work. Tasks take ids, rebuild the app's agent and call one method."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

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
    from agentapp.agents import app_agent

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
