"""An export read back: new memories created, known ones given the file's topics, past facts (closed,
with their dates) kept as past facts; all or nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agentapp.errors import InvalidInput

from ..models import Memory, MemoryChange
from .changes import _check_actor, _record, _snapshot
from .memories import memory_create, memory_update
from .text import clean_text, clean_topics, normalize_text

MAX_IMPORT_MEMORIES = 5_000


def _import_items(data: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = data.get("memories") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidInput('expected a JSON object with a "memories" list (as the export writes)')
    if len(items) > MAX_IMPORT_MEMORIES:
        raise InvalidInput(f"at most {MAX_IMPORT_MEMORIES} memories can be imported at once")
    cleaned: dict[str, dict[str, Any]] = {}
    past: list[dict[str, Any]] = []
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
        valid_from, valid_to = _moment(item, "valid_from", number), _moment(item, "valid_to", number)
        # The file's own ids, only to link a past fact to what replaced it.
        known = {"file_id": item.get("memory_id"), "superseded_by": item.get("superseded_by")}
        if valid_to is not None:
            if valid_from is None or valid_to < valid_from:
                raise InvalidInput(f"memory #{number}: valid_to needs a valid_from before it")
            past.append(
                {"text": text, "topics": topics or [], "valid_from": valid_from, "valid_to": valid_to} | known
            )
            continue
        # The first of several identical memories in one file wins, so a re-import changes nothing.
        cleaned.setdefault(
            normalize_text(text), {"text": text, "topics": topics, "valid_from": valid_from} | known
        )
    return list(cleaned.values()), past


def _moment(item: dict[str, Any], name: str, number: int) -> datetime | None:
    value = item.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(f"memory #{number}: {name} is not an ISO 8601 date and time") from exc
    if timezone.is_naive(moment):
        raise InvalidInput(f"memory #{number}: {name} needs a time zone")
    return moment


def memories_import(*, user_pk: int, data: Any, actor: str, actor_user: User | None = None) -> dict[str, int]:
    """Read an export back: new memories are created, known ones (same text) get the file's topics.
    A new memory keeps when it became true; a past fact (with `valid_to`) is stored closed, as it
    was, linked to what replaced it when the file holds that too. Importing the same file twice
    changes nothing the second time. All or nothing."""
    _check_actor(actor)
    items, past = _import_items(data)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    stored: dict[Any, Memory] = {}  # the file's memory ids: the memories they are here
    with transaction.atomic():
        for item in past:
            memory, created = _past_fact(user_pk, item, actor, actor_user)
            stored[item["file_id"]] = memory
            counts["created" if created else "unchanged"] += 1
        for item in items:
            memory, created = memory_create(
                user_pk=user_pk,
                text=item["text"],
                topics=item["topics"],
                actor=actor,
                actor_user=actor_user,
                valid_from=item["valid_from"],
            )
            stored[item["file_id"]] = memory
            if created:
                counts["created"] += 1
                continue
            if item["topics"] is not None and list(memory.topics) != item["topics"]:
                memory_update(memory=memory, topics=item["topics"], actor=actor, actor_user=actor_user)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        for item in past:
            replacement = stored.get(item["superseded_by"]) if item["superseded_by"] else None
            memory = stored[item["file_id"]]
            if replacement is not None and memory.superseded_by_id is None:
                memory.superseded_by = replacement
                memory.save(update_fields=["superseded_by"])
    return counts


def _past_fact(
    user_pk: int, item: dict[str, Any], actor: str, actor_user: User | None
) -> tuple[Memory, bool]:
    """Store a closed memory as the file has it, unless the same one (text and interval) is there."""
    normalized = normalize_text(item["text"])
    known = Memory.objects.live().filter(
        user_id=user_pk, normalized_text=normalized, valid_from=item["valid_from"], valid_to=item["valid_to"]
    )
    found = known.first()
    if found is not None:
        return found, False
    memory = Memory.objects.create(
        user_id=user_pk,
        text=item["text"],
        normalized_text=normalized,
        topics=item["topics"],
        valid_from=item["valid_from"],
        valid_to=item["valid_to"],
    )
    after = {
        **_snapshot(memory),
        "valid_from": memory.valid_from.isoformat(),
        "valid_to": item["valid_to"].isoformat(),
    }
    _record(
        memory,
        action=MemoryChange.Action.CREATE,
        actor=actor,
        actor_user=actor_user,
        run_pk=None,
        before=None,
        after=after,
    )
    return memory, True
