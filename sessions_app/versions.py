"""The shape of a thread with versions, worked out from runs already loaded (no queries).

A run follows its `parent`; the runs with one parent are versions of one turn, numbered by age.
The thread shown ends at the run shown last (`shown_at`) and goes back through the parents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .models import Run


@dataclass(frozen=True)
class Place:
    parent_run_id: str | None
    version: int  # from 1, the oldest version of its turn
    versions: int  # how many versions its turn has
    shown: bool  # on the thread shown


def places(runs: Iterable[Run]) -> dict[int, Place]:
    """Each run's place (by pk), among the given runs of one session; a parent not among them counts
    as a turn of its own."""
    runs = sorted(runs, key=lambda run: run.pk)
    by_pk = {run.pk: run for run in runs}
    siblings: dict[int | None, list[int]] = {}
    for run in runs:
        siblings.setdefault(run.parent_id, []).append(run.pk)
    shown: set[int] = set()
    if runs:
        at: Run | None = max(runs, key=lambda run: (run.shown_at, run.pk))
        while at is not None and at.pk not in shown:
            shown.add(at.pk)
            at = by_pk.get(at.parent_id) if at.parent_id else None
    return {
        run.pk: Place(
            parent_run_id=by_pk[run.parent_id].run_id if run.parent_id in by_pk else None,
            version=siblings[run.parent_id].index(run.pk) + 1,
            versions=len(siblings[run.parent_id]),
            shown=run.pk in shown,
        )
        for run in runs
    }
