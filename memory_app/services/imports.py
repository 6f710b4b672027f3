"""An export read back: new memories created, known ones given the file's topics, all or nothing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from agentapp.errors import InvalidInput

from .changes import _check_actor
from .memories import memory_create, memory_update
from .text import clean_text, clean_topics, normalize_text

MAX_IMPORT_MEMORIES = 5_000


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
