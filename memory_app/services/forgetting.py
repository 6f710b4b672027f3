""" "Forget what was learned from this": a run marked not to be remembered, and what it learned undone.

What a run learned is what its changes wrote: the memories it created (by a memory tool, the
automatic update, or a proposal of it the person kept), the facts it superseded and the memories it
corrected. Forgetting undoes each with the revert machinery, newest first, so every undo is an
audited MemoryChange (`reverts` names the run's change) by whoever asked; what the run itself
deleted or closed stays deleted or closed. Its proposals still waiting are discarded.

The run's row is locked first, as every memory write made for a run locks it (`run_remembers`): an
automatic update in flight either committed before (and is undone here) or finds the run forgotten
and stores nothing. Undone by `run_unforget`: the forget's undos are reverted in turn and the run
is remembered again (discarded proposals stay discarded: they never were memories).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from agentapp.errors import Conflict
from sessions_app.models import Run

from ..models import MemoryChange, MemoryProposal
from .changes import _check_actor, _snapshot
from .proposals import proposals_discard_for_run
from .reverts import memory_revert

Action = MemoryChange.Action
# What a run's changes taught: undone by forgetting it. Its deletions and expiries are not undone.
LEARNED = (Action.CREATE, Action.UPDATE, Action.SUPERSEDE)
# Undoing a forget: deleted memories come back first, so that a supersession undone by deleting its
# replacement and reopening the old fact is redone in the order it was made.
UNFORGET_ORDER: dict[str, int] = {Action.DELETE: 0, Action.UPDATE: 1, Action.REOPEN: 2}


@dataclass(frozen=True)
class Forgetting:
    """What a forget (or its undo) did: `memories` the memories it removed or corrected back (or
    brought back), `proposals` the proposals it discarded."""

    run: Run
    memories: int
    proposals: int = 0


def _run_locked(run: Run, *, remember: bool) -> Run:
    """Take the run's row lock (the one every memory write for it takes) and set `remember`."""
    locked = Run.objects.select_for_update(no_key=True).get(pk=run.pk)
    if locked.remember != remember:
        locked.remember = remember
        locked.save(update_fields=["remember"])
    run.remember = remember
    return locked


def run_forget(*, run: Run, actor: str, actor_user: User | None = None) -> Forgetting:
    """Mark `run` not to be remembered and undo what it learned, in one transaction. A change that
    can no longer be undone as it was (edited or replaced since) is left; a memory the run created
    is deleted all the same."""
    _check_actor(actor)
    with transaction.atomic():
        # Its waiting proposals first: a person keeping one locks the proposal, then the run.
        list(
            MemoryProposal.objects.select_for_update()
            .filter(source_run_id=run.pk, state=MemoryProposal.State.PROPOSED)
            .values_list("pk", flat=True)
        )
        _run_locked(run, remember=False)
        learned = (
            MemoryChange.objects.filter(run_id=run.pk, action__in=LEARNED)
            .select_related("memory")
            .order_by("-created_at", "-pk")
        )
        forgotten: set[int] = set()
        for change in learned:
            forgotten |= _undo(change, actor=actor, actor_user=actor_user)
        proposals = proposals_discard_for_run(run_pk=run.pk, actor=actor, actor_user=actor_user)
    return Forgetting(run=run, memories=len(forgotten), proposals=proposals)


def _undo(change: MemoryChange, *, actor: str, actor_user: User | None) -> set[int]:
    """Undo one change the run made, if it still stands as the run left it: the memories it took
    away or put back as they were (not an old fact made current again)."""
    memory = change.memory
    if memory is None:
        return set()
    memory.refresh_from_db()  # an earlier undo of this forget may have changed it
    if change.action == Action.CREATE and memory.deleted_at is not None:
        return set()
    if change.action == Action.UPDATE and (
        memory.deleted_at is not None or _snapshot(memory) != change.after
    ):
        return set()  # deleted since (it stays so) or changed since (the later change is kept)
    # A supersession undone deletes the replacement it stored, and makes the old fact current.
    stored = (change.after or {}).get("created") and memory.superseded_by_id
    try:
        with transaction.atomic():
            memory_revert(change=change, actor=actor, actor_user=actor_user)
    except Conflict:
        # A supersession whose replacement changed since, or whose old fact is current again in
        # other words: the old fact stays closed (a replacement the run stored is deleted with the
        # run's other creations).
        return set()
    if change.action == Action.SUPERSEDE:
        return {stored} if stored else set()
    return {memory.pk}


def run_unforget(*, run: Run, actor: str, actor_user: User | None = None) -> Forgetting:
    """Undo forgetting `run`: it is remembered again, and what forgetting it undid comes back, each
    an audited revert. An undo changed since (the memory edited, deleted or replaced again) stays
    as it is; so does one whose memory now says what a current memory already says."""
    _check_actor(actor)
    with transaction.atomic():
        _run_locked(run, remember=True)
        undos = (
            MemoryChange.objects.filter(
                reverts__run_id=run.pk, reverts__action__in=LEARNED, action__in=tuple(UNFORGET_ORDER)
            )
            .exclude(reverted_by__isnull=False)
            .select_related("memory")
        )
        brought_back: set[int] = set()
        for change in sorted(undos, key=lambda c: (UNFORGET_ORDER[c.action], -c.pk)):
            if _redo(change, actor=actor, actor_user=actor_user) and change.action != Action.REOPEN:
                brought_back.add(change.memory_id or 0)
    return Forgetting(run=run, memories=len(brought_back))


def _redo(undo: MemoryChange, *, actor: str, actor_user: User | None) -> bool:
    """Revert one undo of a forget, if it still stands as the forget left it; True when reverted."""
    memory = undo.memory
    if memory is None:
        return False
    memory.refresh_from_db()
    stands: dict[str, bool] = {
        Action.DELETE: memory.deleted_at is not None,
        Action.UPDATE: memory.deleted_at is None and _snapshot(memory) == undo.after,
        Action.REOPEN: memory.is_current,
    }
    if not stands[undo.action]:
        return False
    try:
        with transaction.atomic():
            memory_revert(change=undo, actor=actor, actor_user=actor_user)
    except Conflict:
        return False
    return True


__all__ = ["Forgetting", "run_forget", "run_unforget"]
