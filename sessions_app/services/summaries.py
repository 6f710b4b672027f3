"""A session's summary: a fold stored exactly once however many workers try, or reset."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from agentapp.platform.storable import storable, storable_json

from ..models import AgentSession, Run, SessionSummary


def session_summary_save(
    *,
    session_id: str,
    text: str,
    topics: Sequence[str],
    last_run_id: str,
    expected_last_run_id: str | None,
) -> bool:
    """Store a fold if the summary still covers `expected_last_run_id`; False means it was dropped.

    One conditional UPDATE (or, for a first summary, one INSERT guarded by the one-per-session
    constraint), so two workers folding the same base apply it exactly once. False too when the
    session or those runs were deleted meanwhile, and for a temporary chat (it gets no summary).
    """
    wanted = [i for i in (last_run_id, expected_last_run_id) if i]
    rows = Run.objects.filter(session__session_id=session_id, session__temporary=False, run_id__in=wanted)
    keys: dict[str, tuple[int, int]] = {
        run_id: (pk, session_pk) for run_id, pk, session_pk in rows.values_list("run_id", "pk", "session_id")
    }
    if last_run_id not in keys or (expected_last_run_id and expected_last_run_id not in keys):
        return False
    last_pk, session_pk = keys[last_run_id]
    expected_pk = keys[expected_last_run_id][0] if expected_last_run_id else None
    values = {"text": storable(text), "topics": storable_json(list(topics)), "last_run_id": last_pk}
    updated = SessionSummary.objects.filter(session_id=session_pk, last_run_id=expected_pk).update(
        **values, updated_at=timezone.now()
    )
    if updated:
        return True
    if expected_pk is not None:
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
