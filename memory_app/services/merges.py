"""Merges (memory optimisation): two or more of a person's memories replaced by one, audited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from agentapp.errors import Conflict, InvalidInput, MemoryNotFound

from ..models import Memory, MemoryChange
from .changes import _check_actor, _is_duplicate, _live_with_text, _record, _snapshot
from .text import clean_text, clean_topics, normalize_text

MAX_MERGE_SOURCES = 50


def memories_merge(
    *,
    user_pk: int,
    memory_ids: Iterable[str],
    text: Any,
    topics: Iterable[Any] | None,
    actor: str,
    actor_user: User | None = None,
    run_pk: int | None = None,
    source_texts: Sequence[str] | None = None,
) -> Memory:
    """Replace two or more of the person's live memories with one new memory, in one transaction.

    The new memory's "merge" change is named by each source's "merge" change (its soft deletion),
    so the history shows both ways and `memory_revert` of either side undoes the whole merge.
    MemoryNotFound for an id that is not the person's memory, Conflict for one already deleted,
    one whose text is no longer its `source_texts` entry (what the merge was planned from), or a
    merged text identical to another live memory of theirs.
    """
    _check_actor(actor)
    text = clean_text(text)
    topics = clean_topics(topics)
    memory_ids = [str(memory_id) for memory_id in memory_ids]
    expected = dict(zip(memory_ids, source_texts, strict=True)) if source_texts is not None else {}
    ids = list(dict.fromkeys(memory_ids))
    if len(ids) < 2:
        raise InvalidInput("a merge needs at least two memories")
    if len(ids) > MAX_MERGE_SOURCES:
        raise InvalidInput(f"at most {MAX_MERGE_SOURCES} memories can be merged into one")
    normalized = normalize_text(text)
    with transaction.atomic():
        rows = Memory.objects.select_for_update().filter(user_id=user_pk, memory_id__in=ids).order_by("pk")
        found = {memory.memory_id: memory for memory in rows}
        for memory_id in ids:
            if memory_id not in found:
                raise MemoryNotFound(f"memory {memory_id!r} not found")
            if found[memory_id].deleted_at is not None:
                raise Conflict(f"memory {memory_id!r} is deleted; it cannot be merged")
            if found[memory_id].valid_to is not None:
                raise Conflict(f"memory {memory_id!r} is a past fact; only current memories are merged")
            if (
                memory_id in expected
                and normalize_text(expected[memory_id]) != found[memory_id].normalized_text
            ):
                raise Conflict(f"memory {memory_id!r} changed since the merge was planned")
        sources = [found[memory_id] for memory_id in ids]
        # The sources go first: the merged text may well be one of theirs (one live copy per text).
        now = timezone.now()
        befores = [_snapshot(source) for source in sources]
        for source in sources:
            source.deleted_at = now
            source.save(update_fields=["deleted_at", "updated_at"])
        if _live_with_text(user_pk, normalized).exists():
            raise Conflict("an identical memory already exists; include it in the merge")
        try:
            with transaction.atomic():
                merged = Memory.objects.create(
                    user_id=user_pk,
                    text=text,
                    normalized_text=normalized,
                    topics=topics,
                    source_run_id=run_pk,
                )
        except IntegrityError as error:
            if _is_duplicate(error):  # stored by a concurrent create since the check above
                raise Conflict("an identical memory already exists; include it in the merge") from error
            raise
        head = _record(
            merged,
            action=MemoryChange.Action.MERGE,
            actor=actor,
            actor_user=actor_user,
            run_pk=run_pk,
            before=None,
            after=_snapshot(merged),
        )
        for source, before in zip(sources, befores, strict=True):
            _record(
                source,
                action=MemoryChange.Action.MERGE,
                actor=actor,
                actor_user=actor_user,
                run_pk=run_pk,
                before=before,
                after=None,
                merge=head,
            )
    return merged
