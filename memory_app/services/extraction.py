"""Automatic memory: one extraction per run, claimed with a lease, so a repeated or redelivered
task applies it exactly once and a killed worker's claim is taken over."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from agentapp.errors import FollowupFailed, RunNotFound
from sessions_app.models import Run

from ..models import MemoryExtraction


@dataclass(frozen=True)
class Claim:
    claimed: bool
    busy_for: float | None = None  # held by a live claim: seconds until it expires


def memory_extraction_claim(*, run_id: str, lease: timedelta) -> Claim:
    """Claim the run's automatic memory update for `lease` (longer than a task may run).

    Not claimed when it is done or failed, or while another claim holds it: a claim older than
    its lease belongs to a worker that was killed, and is taken over.
    """
    run_pk = Run.objects.filter(run_id=run_id).values_list("pk", flat=True).first()
    if run_pk is None:
        raise RunNotFound(f"run {run_id!r} not found")
    now = timezone.now()
    try:
        with transaction.atomic():  # the foreign key is checked at this commit
            extraction, created = MemoryExtraction.objects.get_or_create(
                run_id=run_pk, defaults={"state": MemoryExtraction.State.RUNNING, "claimed_at": now}
            )
    except IntegrityError as error:  # its chat was deleted since the run was read: nothing to claim
        raise RunNotFound(f"run {run_id!r} not found") from error
    if created:
        return Claim(True)
    claimable = Q(state=MemoryExtraction.State.RETRYING) | Q(
        state=MemoryExtraction.State.RUNNING, claimed_at__lt=now - lease
    )
    taken = MemoryExtraction.objects.filter(claimable, run_id=run_pk).update(
        state=MemoryExtraction.State.RUNNING, claimed_at=now, attempts=F("attempts") + 1
    )
    if taken == 1:
        return Claim(True)
    extraction.refresh_from_db()
    if extraction.state != MemoryExtraction.State.RUNNING:
        return Claim(False)
    return Claim(False, busy_for=max(0.0, (extraction.claimed_at + lease - now).total_seconds()))


def memory_extraction_finish(*, run_id: str, state: str, error: str = "") -> None:
    """Record how the claimed extraction ended; `retrying` hands it back for the next attempt."""
    finished_at = None if state == MemoryExtraction.State.RETRYING else timezone.now()
    MemoryExtraction.objects.filter(run__run_id=run_id).update(
        state=state, error=error[:2_000], finished_at=finished_at
    )


@dataclass(frozen=True)
class ExtractionOutcome:
    # done, failed, retrying, skipped (done or failed before), missing (no such run),
    # busy (another claim holds it: ask again in `retry_in` seconds, when it expires)
    status: str
    error: str = ""
    retry_in: float = 0.0

    @property
    def retry(self) -> bool:
        return self.status == "retrying"


def followup_lease() -> timedelta:
    """How long a claim holds: longer than a task may run (its hard time limit), so only a killed
    worker's claim ever expires."""
    return timedelta(seconds=settings.AGENT_FOLLOWUP_LEASE_SECONDS)


def memory_extraction_perform(
    *, run_id: str, update: Callable[[], None], may_retry: bool
) -> ExtractionOutcome:
    """Claim the run's automatic memory update, run `update`, and record how it ended, so a repeated
    or redelivered task applies it exactly once. `update` raises FollowupFailed when the model failed
    (a transient failure is handed back for another attempt while `may_retry`); anything else it
    raises is recorded as a failure and raised again."""
    try:
        claim = memory_extraction_claim(run_id=run_id, lease=followup_lease())
    except RunNotFound:
        return ExtractionOutcome("missing")
    if not claim.claimed:
        if claim.busy_for is not None:
            return ExtractionOutcome("busy", retry_in=claim.busy_for)
        return ExtractionOutcome("skipped")
    State = MemoryExtraction.State
    try:
        update()
    except FollowupFailed as failure:
        if failure.transient and may_retry:
            memory_extraction_finish(run_id=run_id, state=State.RETRYING, error=failure.message)
            return ExtractionOutcome("retrying", failure.message)
        memory_extraction_finish(run_id=run_id, state=State.FAILED, error=failure.message)
        return ExtractionOutcome("failed", failure.message)
    except Exception as exc:
        memory_extraction_finish(run_id=run_id, state=State.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    memory_extraction_finish(run_id=run_id, state=State.DONE)
    return ExtractionOutcome("done")
