"""The session work after a run and the periodic sweep, as the workers (and the admin's and the
API's buttons) do it: each job builds the app's agent and calls one of its verbs or one service.

Not a service: a job runs the model or sends tasks, so it lives at the interface level beside the
tasks that call it (services and selectors never import the app's agent)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings

from agentapp.agent import FollowupJob, ModelError
from agentapp.agent.session.summaries import SummaryUpdate
from agentapp.app_agent import TASKS, agent, background_tasks
from agentapp.celery import send_task
from agentapp.errors import FollowupFailed
from memory_app import selectors as memory_selectors
from memory_app import services as memory_services

from . import selectors as session_selectors
from . import services as session_services
from .models import AgentSession

logger = logging.getLogger(__name__)


def summary_update(session_id: str) -> SummaryUpdate:
    """Fold the session's new runs into its summary. A transient model error raises FollowupFailed
    (the task retries with backoff); any other is logged and the summary waits for the next run."""
    the_agent = agent()
    try:
        update = the_agent.update_session_summary(session_id)
        while update.pending and not background_tasks():
            update = the_agent.update_session_summary(session_id)
    except ModelError as error:
        if error.transient:
            raise FollowupFailed(error.message, transient=True) from error
        logger.warning("summary of session %s not updated: %s", session_id, error.message)
        return SummaryUpdate()
    if update.pending:  # a long backlog (a full recompute): go on in a fresh task, each one bounded
        send_task(TASKS["summary"], session_id)
    return update


def title_session(session_id: str) -> str:
    """The title job, as a worker does it: the model's few words."""
    return agent(model_titles=True).title_session(session_id)


def summary_refresh(*, session: AgentSession, full: bool = False) -> str:
    """Bring a summary up to date now (the admin's and the API's button); `full` recomputes it from the
    beginning. "enqueued" for a worker, or "updated" here (a transient model error raises FollowupFailed)."""
    if full:
        session_services.session_summary_reset(session=session)
    if background_tasks():
        send_task(TASKS["summary"], session.session_id, on_commit=True)
        return "enqueued"
    summary_update(session.session_id)
    return "updated"


def sweep() -> dict[str, int]:
    """The periodic sweep (Celery beat): end runs a dead process left running (at once when a web
    process was driving them and stored what they said, services/leases.py); send again the
    follow-ups a down broker lost; forget the live frames of runs that ended more than
    AGENT_FOLLOWUP_HORIZON_SECONDS ago; delete the temporary chats begun more than
    AGENT_TEMPORARY_CHAT_DAYS ago, and for good the chats deleted more than AGENT_CHAT_UNDO_SECONDS
    ago."""
    stale = session_services.runs_sweep_stale(older_than=timedelta(seconds=settings.AGENT_STALE_RUN_SECONDS))
    if stale:
        logger.warning("marked %d interrupted run(s) as error", stale)
    counts = {"stale": stale, "orphaned": 0}
    for run_id in session_services.runs_orphaned():  # their web process died: they end with their text
        counts["orphaned"] += session_services.run_end_orphaned(run_id=run_id)
    # Chats whose runs all ended with no reply: their first message's words, with or without workers.
    counts["titled"] = session_services.sessions_title_without_reply()
    frames_kept = timedelta(seconds=settings.AGENT_FOLLOWUP_HORIZON_SECONDS)
    counts["frames"] = session_services.run_frames_prune(older_than=frames_kept)
    temporary_kept = timedelta(days=settings.AGENT_TEMPORARY_CHAT_DAYS)
    counts["temporary"] = session_services.temporary_sessions_delete(older_than=temporary_kept)
    if counts["temporary"]:
        logger.info("deleted %d temporary chat(s) older than %s", counts["temporary"], temporary_kept)
    undo_kept = timedelta(seconds=settings.AGENT_CHAT_UNDO_SECONDS)
    counts["deleted"] = session_services.sessions_purge_deleted(older_than=undo_kept)
    if not background_tasks():
        return counts
    window = {
        "settled_before": timedelta(seconds=settings.AGENT_FOLLOWUP_GRACE_SECONDS),
        "horizon": timedelta(seconds=settings.AGENT_FOLLOWUP_HORIZON_SECONDS),
    }
    missed: dict[FollowupJob, list[str]] = {"title": session_selectors.sessions_missing_title(**window)}
    if settings.AGENT_UPDATE_MEMORY_ON_RUN:
        missed["memory"] = memory_selectors.runs_missing_memory_update(
            **window, lease=memory_services.followup_lease()
        )
    if settings.AGENT_SESSION_SUMMARIES:
        missed["summary"] = session_selectors.sessions_behind_their_summary(**window)
    for job, ids in missed.items():
        counts[job] = sum(send_task(TASKS[job], value) for value in ids)
    return counts
