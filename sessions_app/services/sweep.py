"""What the periodic sweep (sessions_app.jobs.sweep) clears: what a dead process left behind, the
temporary chats whose time is up, and the deleted chats too late to undo."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from agentapp.agent.session.titles import title_from_text

from ..models import AgentSession, Run, RunFrame
from .runs import runs_lock
from .sessions import session_title_set_if_empty

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


UNTITLED_BATCH = 200  # chats titled in one sweep, at most: the next sweep takes the rest


def sessions_title_without_reply(*, batch: int = UNTITLED_BATCH) -> int:
    """Title the untitled chats whose runs all ended with no reply (stopped, failed, or ended by the
    stale-run sweep) from their first message's words: no reply will title them, and no model is
    asked, so no worker is needed. Returns how many chats it titled."""
    runs = Run.objects.filter(session=OuterRef("pk"))
    waiting_or_replied = runs.filter(
        status__in=(Run.Status.PENDING, Run.Status.RUNNING, Run.Status.COMPLETED)
    )
    untitled = (
        AgentSession.objects.filter(title="", temporary=False)
        .filter(Exists(runs))
        .exclude(Exists(waiting_or_replied))
        .values_list("session_id", flat=True)
    )
    titled = 0
    for session_id in list(untitled[: max(1, batch)]):
        first = (
            Run.objects.filter(session__session_id=session_id).order_by("id").values_list("input", flat=True)
        )
        text = first.first()
        if text and session_title_set_if_empty(session_id=session_id, title=title_from_text(text)):
            titled += 1
    return titled


def run_frames_prune(*, older_than: timedelta) -> int:
    """Forget the live frames of runs that ended longer ago than `older_than`: the run's row and
    messages keep the reply; a stream of such a run then gets its stored outcome as one event."""
    cutoff = timezone.now() - older_than
    deleted, _ = RunFrame.objects.filter(run__ended_at__lt=cutoff).delete()
    return deleted


TEMPORARY_BATCH = 200  # sessions deleted in one transaction
TEMPORARY_BATCHES = 25  # batches in one sweep, at most: the next sweep takes the rest


def temporary_sessions_delete(
    *, older_than: timedelta, batch: int = TEMPORARY_BATCH, batches: int = TEMPORARY_BATCHES
) -> int:
    """Delete the temporary chats that began longer ago than `older_than`, with their runs, messages,
    events, frames and feedback (the database cascades), `batch` sessions a transaction, at most
    `batches` of them. Returns how many sessions it deleted.

    A run still writing to one (a follow-up's event) waits for its batch's commit, as with a person's
    delete, then finds it gone. Its memories stay where they are: a temporary chat has none.
    """
    cutoff = timezone.now() - older_than
    expired = AgentSession.objects.filter(temporary=True, created_at__lt=cutoff).order_by("created_at", "id")
    return _sessions_delete_in_batches(expired, batch=batch, batches=batches)


def sessions_purge_deleted(
    *, older_than: timedelta, batch: int = TEMPORARY_BATCH, batches: int = TEMPORARY_BATCHES
) -> int:
    """Delete for good the chats their people deleted longer ago than `older_than` (too late to undo),
    as `session_delete` does: their runs, messages, events, frames, summary and feedback go (the
    database cascades); their memories stay, with no run to name as their source. `batch` sessions
    a transaction, at most `batches` of them. Returns how many sessions it deleted."""
    cutoff = timezone.now() - older_than
    expired = AgentSession.objects.filter(deleted_at__lt=cutoff).order_by("deleted_at", "id")
    return _sessions_delete_in_batches(expired, batch=batch, batches=batches)


def _sessions_delete_in_batches(sessions: QuerySet[AgentSession], *, batch: int, batches: int) -> int:
    deleted = 0
    for _ in range(max(0, batches)):
        with transaction.atomic():
            pks = list(
                sessions.select_for_update(skip_locked=True).values_list(  # two sweeps at once share the work
                    "pk", flat=True
                )[: max(1, batch)]
            )
            if not pks:
                break
            runs_lock(runs=Run.objects.filter(session_id__in=pks))
            AgentSession.objects.filter(pk__in=pks).delete()
        deleted += len(pks)
        if len(pks) < batch:
            break
    return deleted
