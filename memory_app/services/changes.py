"""What every write shares: the row locked as stored, the live duplicate check, and the
MemoryChange each write leaves (with the embedding it drops or asks for)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import MD5

from agentapp.errors import Conflict

from ..models import LIVE_TEXT_UNIQUE, Memory, MemoryChange, MemoryEmbedding
from ..signals import memory_text_changed


def _snapshot(memory: Memory) -> dict[str, Any]:
    return {"text": memory.text, "topics": list(memory.topics)}


def _check_actor(actor: str) -> str:
    if actor not in MemoryChange.Actor.values:
        raise ValueError(f"unknown memory actor {actor!r}; use MemoryChange.Actor")
    return actor


def _record(
    memory: Memory,
    *,
    action: str,
    actor: str,
    actor_user: User | None,
    run_pk: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reverts: MemoryChange | None = None,
    merge: MemoryChange | None = None,
) -> MemoryChange:
    _embedding_follows(memory, action=action, before=before, after=after)
    return MemoryChange.objects.create(
        memory=memory,
        user_id=memory.user_id,
        action=action,
        actor=_check_actor(actor),
        actor_user=actor_user,
        run_id=run_pk,
        before=before,
        after=after,
        reverts=reverts,
        merge=merge,
    )


def _embedding_follows(
    memory: Memory, *, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> None:
    """A deleted memory's embedding goes; a new text (created, changed, restored) gets a new one."""
    Action = MemoryChange.Action
    changed_text = before is not None and after is not None and before["text"] != after["text"]
    merged_away = action == Action.MERGE and after is None
    merged_into = action == Action.MERGE and before is None
    if action == Action.DELETE or merged_away or changed_text:
        MemoryEmbedding.objects.filter(memory_id=memory.pk).delete()
    if action in (Action.CREATE, Action.RESTORE) or merged_into or changed_text:
        memory_text_changed.send(sender=Memory, memory_pks=[memory.pk])


def _locked(memory: Memory) -> Memory:
    """The row as stored now, locked, so `before` is what was really there (not a stale copy)."""
    return Memory.objects.select_for_update().get(pk=memory.pk)


def _sync(target: Memory, source: Memory) -> Memory:
    fields = ("text", "normalized_text", "topics", "updated_at", "deleted_at")
    for field in (*fields, "valid_from", "valid_to", "superseded_by_id"):
        setattr(target, field, getattr(source, field))
    return target


def _live_with_text(user_pk: int, normalized: str) -> QuerySet[Memory]:
    """The person's current memories with this normalised text (at most one), found through the
    unique index on its hash. A closed memory may say what is true again: it is not one of them."""
    return Memory.objects.alias(text_hash=MD5("normalized_text")).filter(
        user_id=user_pk,
        text_hash=hashlib.md5(normalized.encode()).hexdigest(),  # an index key, not a secret
        normalized_text=normalized,
        deleted_at__isnull=True,
        valid_to__isnull=True,
    )


def _duplicate_exists(memory: Memory, normalized: str) -> bool:
    """Whether `memory`, were it current with this text, would be a second copy of a current one."""
    if memory.valid_to is not None:
        return False
    return _live_with_text(memory.user_id, normalized).exclude(pk=memory.pk).exists()


def _save_unless_duplicate(memory: Memory, fields: list[str]) -> None:
    """Save; an identical live memory a concurrent write made since the check is a Conflict."""
    try:
        with transaction.atomic():
            memory.save(update_fields=fields)
    except IntegrityError as error:
        if _is_duplicate(error):
            raise Conflict("an identical memory already exists") from error
        raise


def _is_duplicate(error: IntegrityError) -> bool:
    """Whether the database refused a second live copy of a memory (not, say, a vanished run)."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == LIVE_TEXT_UNIQUE
