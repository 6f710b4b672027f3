"""Undoing a change from a memory's history: a create, an update, a delete, or a whole merge."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from agentapp.errors import Conflict

from ..models import Memory, MemoryChange
from .memories import memory_delete, memory_restore, memory_update
from .validity import memory_reopen, reopen_revert, supersession_revert


def memory_revert(*, change: MemoryChange, actor: str, actor_user: User | None = None) -> Memory:
    """Return the memory to the state before `change`: a create is undone by deleting,
    a delete by restoring, an update by writing the old text and topics back, a merge (either of its
    sides) by bringing the merged memories back and deleting the one they became, a supersession by
    making the old fact current again (and deleting the memory it stored), an expiry by reopening,
    a reopening by closing again."""
    if change.action == MemoryChange.Action.MERGE:
        return _merge_revert(change=change, actor=actor, actor_user=actor_user)
    if change.action == MemoryChange.Action.SUPERSEDE:
        return supersession_revert(change=change, actor=actor, actor_user=actor_user)
    if change.action == MemoryChange.Action.EXPIRE:
        return memory_reopen(memory=change.subject, actor=actor, actor_user=actor_user, reverts=change)
    if change.action == MemoryChange.Action.REOPEN:
        return reopen_revert(change=change, actor=actor, actor_user=actor_user)
    memory = change.subject
    with transaction.atomic():
        if change.before is None:
            return memory_delete(memory=memory, actor=actor, actor_user=actor_user, reverts=change)
        memory = memory_restore(memory=memory, actor=actor, actor_user=actor_user, reverts=change)
        return memory_update(
            memory=memory,
            text=change.before.get("text"),
            topics=change.before.get("topics", []),
            actor=actor,
            actor_user=actor_user,
            reverts=change,
        )


def _merge_revert(*, change: MemoryChange, actor: str, actor_user: User | None) -> Memory:
    """Undo the merge `change` belongs to: the merged memory is deleted first (its text may be a
    source's), then each source restored; all or nothing. Returns `change`'s memory as it is now."""
    head = change.merge if change.merge_id is not None else change
    if head is None:  # the merged memory itself was erased with its history
        raise Conflict("this merge can no longer be reverted")
    with transaction.atomic():
        memory_delete(memory=head.subject, actor=actor, actor_user=actor_user, reverts=head)
        parts = head.merged_sources.select_related("memory").order_by("pk")
        for part in parts:
            memory_restore(memory=part.subject, actor=actor, actor_user=actor_user, reverts=part)
    return Memory.objects.get(pk=change.subject.pk)
