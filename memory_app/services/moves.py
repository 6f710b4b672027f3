"""A person's memories moved to another account (a Slack-only account linked to its person's own)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Subquery

from ..models import Memory, MemoryChange, MemoryEmbedding, MemoryProposal


def memories_move(*, source: User, target: User) -> int:
    """Move everything memory holds of `source` to `target`, with its history; returns how many
    current memories moved. A current memory `target` already holds (the same text) is not moved
    twice: `source`'s copy is dropped. Call it in a transaction."""
    held = Memory.objects.current().filter(user=target).values("normalized_text")
    Memory.objects.current().filter(user=source, normalized_text__in=Subquery(held)).delete()
    moved = Memory.objects.current().filter(user=source).count()
    for model in (Memory, MemoryEmbedding, MemoryChange, MemoryProposal):
        model.objects.filter(user=source).update(user=target)
    return moved
