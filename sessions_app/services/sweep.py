"""What a dead process left behind, cleared by the periodic sweep (sessions_app.jobs.sweep)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ..models import Run, RunFrame

STALE_RUN_ERROR = (
    "The run was interrupted before it finished (its process stopped or lost the database); "
    "send the message again to retry."
)


def runs_sweep_stale(*, older_than: timedelta) -> int:
    """Mark runs left `running` (or never claimed, `pending`) for longer than `older_than` as `error`.

    One conditional UPDATE, so a run that finishes meanwhile is left alone; its messages stay.
    Returns how many runs it ended.
    """
    cutoff = timezone.now() - older_than
    running = Q(status=Run.Status.RUNNING) & (
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff)
    )
    pending = Q(status=Run.Status.PENDING, created_at__lt=cutoff)
    return Run.objects.filter(running | pending).update(
        status=Run.Status.ERROR, error=STALE_RUN_ERROR, ended_at=timezone.now()
    )


def run_frames_prune(*, older_than: timedelta) -> int:
    """Forget the live frames of runs that ended longer ago than `older_than`: the run's row and
    messages keep the reply; a stream of such a run then gets its stored outcome as one event."""
    cutoff = timezone.now() - older_than
    deleted, _ = RunFrame.objects.filter(run__ended_at__lt=cutoff).delete()
    return deleted
