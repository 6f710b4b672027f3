"""Facts over time. A memory whose fact changed is closed and replaced (superseded), not overwritten;
one that stopped being true is closed with nothing in its place (expired); either can be undone
(reopened). Each step is a MemoryChange, and the old memory stays, dated, for questions about the past.

Supersessions cannot form a cycle: only a current memory can replace another, and the replaced one is
closed by it (`superseded_by` is set only on a closed memory, a database constraint); reopening a memory
clears its `superseded_by`. So a chain of replacements always runs from older to newer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from agentapp.errors import Conflict, InvalidInput

from ..models import Memory, MemoryChange
from .changes import (
    _check_actor,
    _is_duplicate,
    _live_with_text,
    _locked,
    _record,
    _snapshot,
    _sync,
)
from .memories import memory_delete, run_remembers
from .text import clean_text, clean_topics, normalize_text


def _validity(memory: Memory) -> dict[str, Any]:
    return {
        **_snapshot(memory),
        "valid_from": memory.valid_from.isoformat(),
        "valid_to": memory.valid_to.isoformat() if memory.valid_to else None,
        "superseded_by": memory.superseded_by.memory_id if memory.superseded_by is not None else None,
    }


def _when(current: Memory, when: datetime | None, *, what: str) -> datetime:
    now = timezone.now()
    when = now if when is None else when
    if timezone.is_naive(when):
        raise InvalidInput(f"{what} needs a time zone")
    if when > now:
        raise InvalidInput(f"{what} cannot be in the future")
    if when < current.valid_from:
        raise InvalidInput(
            f"{what} ({when.isoformat()}) is before this memory became true "
            f"({current.valid_from.isoformat()})"
        )
    return when


def _current_locked(memory: Memory) -> Memory:
    current = _locked(memory)
    if current.deleted_at is not None:
        raise Conflict("this memory is deleted; restore it first")
    if current.valid_to is not None:
        raise Conflict(
            "this memory is no longer current; it was closed on " + current.valid_to.date().isoformat()
        )
    return current


def memory_supersede(
    *,
    memory: Memory,
    text: Any,
    topics: Any = None,
    actor: str,
    actor_user: User | None = None,
    run_pk: int | None = None,
    valid_from: datetime | None = None,
) -> Memory:
    """The fact of `memory` changed: close it and store `text` as what is true since `valid_from`
    (default now), in one transaction; returns the memory now current. When the new fact is already
    one of the person's current memories, that one replaces it (nothing is stored twice). The old
    memory's topics carry over unless `topics` are given. Conflict when `memory` is not current;
    InvalidInput when the new text says the same, or for a `valid_from` in the future or before the
    old fact became true."""
    _check_actor(actor)
    text = clean_text(text)
    normalized = normalize_text(text)
    with transaction.atomic():
        if run_pk is not None:
            run_remembers(run_pk)
        old = _current_locked(memory)
        if normalized == old.normalized_text:
            raise InvalidInput("the new fact says the same as the old one; edit its wording instead")
        when = _when(old, valid_from, what="valid_from")
        before = _validity(old)
        replacement = _live_with_text(old.user_id, normalized).select_for_update().first()
        created = replacement is None
        if replacement is None:
            try:
                with transaction.atomic():
                    replacement = Memory.objects.create(
                        user_id=old.user_id,
                        text=text,
                        normalized_text=normalized,
                        topics=clean_topics(topics) if topics is not None else list(old.topics),
                        source_run_id=run_pk,
                        valid_from=when,
                    )
            except IntegrityError as error:
                if _is_duplicate(error):
                    raise Conflict("the new fact was stored by another write meanwhile; try again") from error
                raise
            _record(
                replacement,
                action=MemoryChange.Action.CREATE,
                actor=actor,
                actor_user=actor_user,
                run_pk=run_pk,
                before=None,
                after=_snapshot(replacement),
            )
        old.valid_to, old.superseded_by = when, replacement
        old.save(update_fields=["valid_to", "superseded_by", "updated_at"])
        _record(
            old,
            action=MemoryChange.Action.SUPERSEDE,
            actor=actor,
            actor_user=actor_user,
            run_pk=run_pk,
            before=before,
            after={**_validity(old), "created": created},
        )
    _sync(memory, old)
    return replacement


def memory_expire(
    *,
    memory: Memory,
    actor: str,
    actor_user: User | None = None,
    run_pk: int | None = None,
    valid_to: datetime | None = None,
    reverts: MemoryChange | None = None,
) -> Memory:
    """No longer true, with nothing in its place: close the memory at `valid_to` (default now). It
    leaves the context, stays in the history and answers questions about the past."""
    _check_actor(actor)
    with transaction.atomic():
        current = _current_locked(memory)
        before = _validity(current)
        current.valid_to = _when(current, valid_to, what="valid_to")
        current.save(update_fields=["valid_to", "updated_at"])
        _record(
            current,
            action=MemoryChange.Action.EXPIRE,
            actor=actor,
            actor_user=actor_user,
            run_pk=run_pk,
            before=before,
            after=_validity(current),
            reverts=reverts,
        )
    return _sync(memory, current)


def memory_reopen(
    *,
    memory: Memory,
    actor: str,
    actor_user: User | None = None,
    reverts: MemoryChange | None = None,
) -> Memory:
    """True again: a closed memory becomes current (no longer superseded). Conflict when it is
    deleted or an identical memory is current."""
    _check_actor(actor)
    with transaction.atomic():
        current = _locked(memory)
        if current.deleted_at is not None:
            raise Conflict("this memory is deleted; restore it first")
        if current.valid_to is None:
            return _sync(memory, current)
        before = _validity(current)
        if _live_with_text(current.user_id, current.normalized_text).exclude(pk=current.pk).exists():
            raise Conflict("an identical memory is current already")
        current.valid_to, current.superseded_by = None, None
        try:
            with transaction.atomic():
                current.save(update_fields=["valid_to", "superseded_by", "updated_at"])
        except IntegrityError as error:
            if _is_duplicate(error):
                raise Conflict("an identical memory is current already") from error
            raise
        _record(
            current,
            action=MemoryChange.Action.REOPEN,
            actor=actor,
            actor_user=actor_user,
            run_pk=None,
            before=before,
            after=_validity(current),
            reverts=reverts,
        )
    return _sync(memory, current)


def supersession_revert(*, change: MemoryChange, actor: str, actor_user: User | None = None) -> Memory:
    """Undo a supersession: the old memory is current again and the memory the supersession stored
    is deleted (one that was already stored stays). Only while that replacement is still current:
    a later change to it is undone first."""
    with transaction.atomic():
        old = _locked(change.subject)
        replaced_by = (change.after or {}).get("superseded_by")
        if old.superseded_by is None or old.superseded_by.memory_id != replaced_by:
            raise Conflict("this supersession was undone or changed since")
        replacement = _locked(old.superseded_by)
        if not replacement.is_current:
            raise Conflict("what replaced this memory has changed since; undo that change first")
        if (change.after or {}).get("created"):
            memory_delete(memory=replacement, actor=actor, actor_user=actor_user, reverts=change)
        return memory_reopen(memory=old, actor=actor, actor_user=actor_user, reverts=change)


def reopen_revert(*, change: MemoryChange, actor: str, actor_user: User | None = None) -> Memory:
    """Undo a reopening: closed again as it was (replaced by the same memory, if that one is still
    current; else simply closed)."""
    before = change.before or {}
    with transaction.atomic():
        current = _current_locked(change.subject)
        previous = before.get("valid_to")
        current.valid_to = datetime.fromisoformat(previous) if previous else timezone.now()
        by = before.get("superseded_by")
        current.superseded_by = Memory.objects.current().filter(memory_id=by, user_id=current.user_id).first()
        current.save(update_fields=["valid_to", "superseded_by", "updated_at"])
        _record(
            current,
            action=MemoryChange.Action.SUPERSEDE if current.superseded_by_id else MemoryChange.Action.EXPIRE,
            actor=actor,
            actor_user=actor_user,
            run_pk=None,
            before=before | {"valid_to": None, "superseded_by": None},
            after={**_validity(current), "created": False},
            reverts=change,
        )
    return _sync(change.subject, current)
