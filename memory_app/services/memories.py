"""Every write to a memory goes through here and leaves a MemoryChange, whoever makes it: created,
changed, deleted (softly), restored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from agentapp.errors import Conflict, InvalidInput
from agentapp.platform.storable import storable
from sessions_app.models import Erasure, Run

from ..models import Memory, MemoryChange
from .changes import (
    _check_actor,
    _duplicate_exists,
    _is_duplicate,
    _live_with_text,
    _locked,
    _record,
    _save_unless_duplicate,
    _snapshot,
    _sync,
)
from .text import clean_text, clean_topics, normalize_text

MAX_INPUT_CHARS = 32_000  # a message's longest


def memory_create(
    *,
    user_pk: int,
    text: Any,
    topics: Iterable[Any] | None = None,
    actor: str,
    actor_user: User | None = None,
    run_pk: int | None = None,
    run_began_at: datetime | None = None,
    valid_from: datetime | None = None,
    input: str | None = None,
    agent_id: str | None = None,
) -> tuple[Memory, bool]:
    """Store a memory, true since `valid_from` (default: now); returns (memory, created). An exact
    duplicate of a current memory returns that one. `input` and `agent_id` are Agno's: what was said
    that taught it and the agent that wrote it (kept as given, shortened to fit).

    Written for the run `run_pk` (created at `run_began_at`) that has been deleted meanwhile: kept
    as the person's when its session was deleted, refused (Conflict) when the person's data was
    erased since the run began, so an erase wins over a memory update still in flight."""
    _check_actor(actor)
    text = clean_text(text)
    topics = clean_topics(topics)
    normalized = normalize_text(text)
    if valid_from is not None and (timezone.is_naive(valid_from) or valid_from > timezone.now()):
        raise InvalidInput("valid_from needs a time zone and cannot be in the future")
    new = {
        "text": text,
        "normalized_text": normalized,
        "topics": topics,
        "valid_from": valid_from or timezone.now(),
        "input": storable(str(input or ""))[:MAX_INPUT_CHARS],
        "agent_id": storable(str(agent_id or ""))[: Memory._meta.get_field("agent_id").max_length],
    }
    existing = _live_with_text(user_pk, normalized).first()
    if existing is not None:
        return existing, False
    try:
        return _memory_insert(user_pk, new, actor, actor_user, run_pk), True
    except IntegrityError as error:
        if _is_duplicate(error):  # stored by a concurrent create since the check above: that one
            return _live_with_text(user_pk, normalized).get(), False
        if run_pk is None or Run.objects.filter(pk=run_pk).exists():
            raise
    with transaction.atomic():
        erased = Erasure.objects.filter(user_id=user_pk)
        if run_began_at is not None:
            erased = erased.filter(erased_at__gte=run_began_at)
        if erased.exists():
            raise Conflict("this person's data was erased meanwhile; the memory was not stored")
        # The run that wrote it was deleted meanwhile (its session deleted): the memory is the person's.
        return _memory_insert(user_pk, new, actor, actor_user, None), True


def run_remembers(run_pk: int) -> None:
    """Conflict when the person asked that nothing be learned from run `run_pk` (a run gone passes:
    its insert fails on its own). The run's row stays locked to the caller's transaction, so a
    "forget what was learned from this" either waits for this write (and removes it) or wins."""
    remember = Run.objects.select_for_update(no_key=True).filter(pk=run_pk).values_list("remember", flat=True)
    if remember.first() is False:
        raise Conflict("the person asked that nothing be learned from this run; nothing was stored")


def _memory_insert(
    user_pk: int, fields: dict[str, Any], actor: str, actor_user: User | None, run_pk: int | None
) -> Memory:
    with transaction.atomic():
        if run_pk is not None:
            run_remembers(run_pk)
        memory = Memory.objects.create(user_id=user_pk, source_run_id=run_pk, **fields)
        _record(
            memory,
            action=MemoryChange.Action.CREATE,
            actor=actor,
            actor_user=actor_user,
            run_pk=run_pk,
            before=None,
            after=_snapshot(memory),
        )
    return memory


def memory_update(
    *,
    memory: Memory,
    text: Any = None,
    topics: Iterable[Any] | None = None,
    actor: str,
    actor_user: User | None = None,
    run_pk: int | None = None,
    reverts: MemoryChange | None = None,
) -> Memory:
    """Change text and/or topics; an update that changes nothing records nothing. One made for the
    run `run_pk` is refused (Conflict) when the person asked that nothing be learned from it."""
    _check_actor(actor)
    new_text = clean_text(text) if text is not None else None
    new_topics = clean_topics(topics) if topics is not None else None
    with transaction.atomic():
        if run_pk is not None:
            run_remembers(run_pk)
        current = _locked(memory)
        if current.deleted_at is not None:
            raise Conflict("this memory is deleted; restore it before editing")
        before = _snapshot(current)
        if new_text is not None:
            current.text = new_text
            current.normalized_text = normalize_text(new_text)
        if new_topics is not None:
            current.topics = new_topics
        after = _snapshot(current)
        if after == before:
            return _sync(memory, current)
        if current.normalized_text != normalize_text(before["text"]) and _duplicate_exists(
            current, current.normalized_text
        ):
            raise Conflict("an identical memory already exists")
        _save_unless_duplicate(current, ["text", "normalized_text", "topics", "updated_at"])
        _record(
            current,
            action=MemoryChange.Action.UPDATE,
            actor=actor,
            actor_user=actor_user,
            run_pk=run_pk,
            before=before,
            after=after,
            reverts=reverts,
        )
    return _sync(memory, current)


def memory_delete(
    *,
    memory: Memory,
    actor: str,
    actor_user: User | None = None,
    run_pk: int | None = None,
    reverts: MemoryChange | None = None,
) -> Memory:
    """Soft delete: the memory leaves the context at once and can be restored."""
    _check_actor(actor)
    with transaction.atomic():
        current = _locked(memory)
        if current.deleted_at is not None:
            return _sync(memory, current)
        current.deleted_at = timezone.now()
        current.save(update_fields=["deleted_at", "updated_at"])
        _record(
            current,
            action=MemoryChange.Action.DELETE,
            actor=actor,
            actor_user=actor_user,
            run_pk=run_pk,
            before=_snapshot(current),
            after=None,
            reverts=reverts,
        )
    return _sync(memory, current)


def memory_restore(
    *,
    memory: Memory,
    actor: str,
    actor_user: User | None = None,
    reverts: MemoryChange | None = None,
) -> Memory:
    """Bring a soft-deleted memory back into the context (nothing to do if it is not deleted)."""
    _check_actor(actor)
    with transaction.atomic():
        current = _locked(memory)
        if current.deleted_at is None:
            return _sync(memory, current)
        if _duplicate_exists(current, current.normalized_text):
            raise Conflict("an identical memory already exists")
        current.deleted_at = None
        _save_unless_duplicate(current, ["deleted_at", "updated_at"])
        _record(
            current,
            action=MemoryChange.Action.RESTORE,
            actor=actor,
            actor_user=actor_user,
            run_pk=None,
            before=None,
            after=_snapshot(current),
            reverts=reverts,
        )
    return _sync(memory, current)
