"""Every write to a memory goes through here and leaves a MemoryChange, whoever makes it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import MD5
from django.utils import timezone

from agentapp.errors import Conflict, FollowupFailed, InvalidInput, MemoryNotFound, RunNotFound
from agentapp.storable import storable
from sessions_app.models import Run

from .models import LIVE_TEXT_UNIQUE, Memory, MemoryChange, MemoryEmbedding, MemoryExtraction
from .signals import memory_text_changed

MAX_MEMORY_CHARS = 2_000
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 50
MAX_IMPORT_MEMORIES = 5_000


def normalize_text(text: str) -> str:
    return " ".join(text.lower().split())


def clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("memory text must not be empty")
    text = storable(" ".join(text.split()))
    if len(text) > MAX_MEMORY_CHARS:
        raise InvalidInput(f"memory text is longer than {MAX_MEMORY_CHARS} characters")
    return text


def clean_topics(topics: Iterable[Any] | None) -> list[str]:
    if topics is None:
        return []
    if isinstance(topics, str):
        topics = topics.split(",")
    if not isinstance(topics, list | tuple):
        raise InvalidInput("topics must be a list of strings")
    cleaned: list[str] = []
    for topic in topics:
        if not isinstance(topic, str):
            raise InvalidInput("topics must be strings")
        topic = storable(" ".join(topic.lower().split())[:MAX_TOPIC_CHARS])
        if topic and topic not in cleaned:
            cleaned.append(topic)
    return cleaned[:MAX_TOPICS]


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


def memory_embeddings_save(*, model: str, vectors: dict[int, list[float]], texts: dict[int, str]) -> int:
    """Store the vectors `model` made of these memories (by pk), for those whose text is still the
    one embedded and which are live; returns how many were stored. Idempotent."""
    if not vectors:
        return 0
    stored = 0
    with transaction.atomic():
        live = Memory.objects.select_for_update().filter(pk__in=vectors, deleted_at__isnull=True)
        rows = {pk: (user_pk, text) for pk, user_pk, text in live.values_list("pk", "user_id", "text")}
        for pk, vector in vectors.items():
            if pk not in rows or rows[pk][1] != texts.get(pk):
                continue  # deleted or edited since: its new text gets its own embedding
            MemoryEmbedding.objects.update_or_create(
                memory_id=pk,
                defaults={
                    "user_id": rows[pk][0],
                    "model": model,
                    "dimensions": len(vector),
                    "vector": vector,
                },
            )
            stored += 1
    return stored


def _locked(memory: Memory) -> Memory:
    """The row as stored now, locked, so `before` is what was really there (not a stale copy)."""
    return Memory.objects.select_for_update().get(pk=memory.pk)


def _sync(target: Memory, source: Memory) -> Memory:
    for field in ("text", "normalized_text", "topics", "updated_at", "deleted_at"):
        setattr(target, field, getattr(source, field))
    return target


def _live_with_text(user_pk: int, normalized: str) -> QuerySet[Memory]:
    """The person's live memories with this normalised text (at most one), found through the
    unique index on its hash."""
    return Memory.objects.alias(text_hash=MD5("normalized_text")).filter(
        user_id=user_pk,
        text_hash=hashlib.md5(normalized.encode()).hexdigest(),  # an index key, not a secret
        normalized_text=normalized,
        deleted_at__isnull=True,
    )


def _duplicate_exists(memory: Memory, normalized: str) -> bool:
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


def memory_create(
    *,
    user_pk: int,
    text: Any,
    topics: Iterable[Any] | None = None,
    actor: str,
    actor_user: User | None = None,
    run_pk: int | None = None,
) -> tuple[Memory, bool]:
    """Store a memory; returns (memory, created). An exact duplicate returns the existing one."""
    _check_actor(actor)
    text = clean_text(text)
    topics = clean_topics(topics)
    normalized = normalize_text(text)
    existing = _live_with_text(user_pk, normalized).first()
    if existing is not None:
        return existing, False
    try:
        return _memory_insert(user_pk, text, normalized, topics, actor, actor_user, run_pk), True
    except IntegrityError as error:
        if _is_duplicate(error):  # stored by a concurrent create since the check above: that one
            return _live_with_text(user_pk, normalized).get(), False
        if run_pk is None or Run.objects.filter(pk=run_pk).exists():
            raise
    # The run that wrote it was deleted meanwhile (its session deleted): the memory is the person's.
    return _memory_insert(user_pk, text, normalized, topics, actor, actor_user, None), True


def _memory_insert(
    user_pk: int,
    text: str,
    normalized: str,
    topics: list[str],
    actor: str,
    actor_user: User | None,
    run_pk: int | None,
) -> Memory:
    with transaction.atomic():
        memory = Memory.objects.create(
            user_id=user_pk, text=text, normalized_text=normalized, topics=topics, source_run_id=run_pk
        )
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
    """Change text and/or topics; an update that changes nothing records nothing."""
    _check_actor(actor)
    new_text = clean_text(text) if text is not None else None
    new_topics = clean_topics(topics) if topics is not None else None
    with transaction.atomic():
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


def memory_revert(*, change: MemoryChange, actor: str, actor_user: User | None = None) -> Memory:
    """Return the memory to the state before `change`: a create is undone by deleting,
    a delete by restoring, an update by writing the old text and topics back, a merge (either of its
    sides) by bringing the merged memories back and deleting the one they became."""
    if change.action == MemoryChange.Action.MERGE:
        return _merge_revert(change=change, actor=actor, actor_user=actor_user)
    memory = change.memory
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


# --- merges: memory optimisation -------------------------------------------------------------
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


def _merge_revert(*, change: MemoryChange, actor: str, actor_user: User | None) -> Memory:
    """Undo the merge `change` belongs to: the merged memory is deleted first (its text may be a
    source's), then each source restored; all or nothing. Returns `change`'s memory as it is now."""
    head = change.merge if change.merge_id is not None else change
    if head is None:  # the merged memory itself was erased with its history
        raise Conflict("this merge can no longer be reverted")
    with transaction.atomic():
        memory_delete(memory=head.memory, actor=actor, actor_user=actor_user, reverts=head)
        parts = head.merged_sources.select_related("memory").order_by("pk")
        for part in parts:
            memory_restore(memory=part.memory, actor=actor, actor_user=actor_user, reverts=part)
    return Memory.objects.get(pk=change.memory_id)


def _import_items(data: Any) -> list[dict[str, Any]]:
    items = data.get("memories") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidInput('expected a JSON object with a "memories" list (as the export writes)')
    if len(items) > MAX_IMPORT_MEMORIES:
        raise InvalidInput(f"at most {MAX_IMPORT_MEMORIES} memories can be imported at once")
    cleaned: dict[str, dict[str, Any]] = {}
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            item = {"memory": item}
        if not isinstance(item, dict):
            raise InvalidInput(f"memory #{number} is not an object")
        try:
            text = clean_text(item.get("memory", item.get("text")))
            topics = clean_topics(item["topics"]) if item.get("topics") is not None else None
        except InvalidInput as exc:
            raise InvalidInput(f"memory #{number}: {exc.message}") from exc
        # The first of several identical memories in one file wins, so a re-import changes nothing.
        cleaned.setdefault(normalize_text(text), {"text": text, "topics": topics})
    return list(cleaned.values())


def memories_import(*, user_pk: int, data: Any, actor: str, actor_user: User | None = None) -> dict[str, int]:
    """Read an export back: new memories are created, known ones (same text) get the file's topics.
    Importing the same file twice changes nothing the second time. All or nothing."""
    _check_actor(actor)
    items = _import_items(data)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        for item in items:
            memory, created = memory_create(
                user_pk=user_pk, text=item["text"], topics=item["topics"], actor=actor, actor_user=actor_user
            )
            if created:
                counts["created"] += 1
                continue
            if item["topics"] is not None and list(memory.topics) != item["topics"]:
                memory_update(memory=memory, topics=item["topics"], actor=actor, actor_user=actor_user)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts


# --- automatic memory: one extraction per run ------------------------------------------
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
    extraction, created = MemoryExtraction.objects.get_or_create(
        run_id=run_pk, defaults={"state": MemoryExtraction.State.RUNNING, "claimed_at": now}
    )
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
