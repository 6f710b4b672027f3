"""Writes to session summaries: the conditional save a fold ends with, and the recompute button."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import AgentSession, SessionSummary
from .tasks import enqueue, session_summary_update


def session_summary_save(
    *,
    session_pk: int,
    text: str,
    topics: Sequence[str],
    last_run_pk: int,
    expected_last_run_pk: int | None,
) -> bool:
    """Store a fold if the summary still covers `expected_last_run_pk`; False means it was dropped.

    One conditional UPDATE (or, for a first summary, one INSERT guarded by the one-per-session
    constraint), so two workers folding the same base apply it exactly once.
    """
    values = {"text": text, "topics": list(topics), "last_run_id": last_run_pk}
    updated = SessionSummary.objects.filter(session_id=session_pk, last_run_id=expected_last_run_pk).update(
        **values, updated_at=timezone.now()
    )
    if updated:
        return True
    if expected_last_run_pk is not None:
        return False
    try:
        with transaction.atomic():
            SessionSummary.objects.create(session_id=session_pk, **values)
    except IntegrityError:  # another worker wrote the first summary meanwhile
        return False
    return True


def session_summary_reset(*, session: AgentSession) -> None:
    """Forget what the summary covers, so the next update refolds the thread from its first run."""
    SessionSummary.objects.filter(session=session).update(
        text="", topics=[], last_run=None, updated_at=timezone.now()
    )


def session_summary_refresh(*, session: AgentSession, full: bool = False) -> str:
    """Bring the summary up to date now; `full` recomputes it from the beginning, in bounded batches.

    Enqueued after commit when a worker runs background tasks ("enqueued"); otherwise done here
    ("updated"), as the agent does its follow-ups; a transient model error then raises `ModelError`.
    """
    if full:
        session_summary_reset(session=session)
    if settings.AGENT_BACKGROUND_TASKS == "celery":
        enqueue(session_summary_update, session.session_id, on_commit=True)
        return "enqueued"
    session_summary_update(session.session_id)  # no worker: a task called directly runs here
    return "updated"
