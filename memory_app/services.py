"""Every write to a memory goes through here and leaves a MemoryChange, whoever makes it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from agentapp.errors import InvalidInput

from .models import Memory, MemoryChange

MAX_MEMORY_CHARS = 2_000
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 50


def normalize_text(text: str) -> str:
    return " ".join(text.lower().split())


def clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("memory text must not be empty")
    text = " ".join(text.split())
    if len(text) > MAX_MEMORY_CHARS:
        raise InvalidInput(f"memory text is longer than {MAX_MEMORY_CHARS} characters")
    return text


def clean_topics(topics: Iterable[Any] | None) -> list[str]:
    if topics is None:
        return []
    if isinstance(topics, str):
        topics = topics.split(",")
    cleaned: list[str] = []
    for topic in topics:
        if not isinstance(topic, str):
            raise InvalidInput("topics must be strings")
        topic = " ".join(topic.lower().split())[:MAX_TOPIC_CHARS]
        if topic and topic not in cleaned:
            cleaned.append(topic)
    return cleaned[:MAX_TOPICS]


def _snapshot(memory: Memory) -> dict[str, Any]:
    return {"text": memory.text, "topics": list(memory.topics)}


def _record(
    memory: Memory,
    *,
    action: str,
    actor: str,
    actor_user: AbstractBaseUser | None,
    run_pk: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> MemoryChange:
    return MemoryChange.objects.create(
        memory=memory,
        user_id=memory.user_id,
        action=action,
        actor=actor,
        actor_user=actor_user,
        run_id=run_pk,
        before=before,
        after=after,
    )


def memory_create(
    *,
    user_pk: int,
    text: Any,
    topics: Iterable[Any] | None = None,
    actor: str,
    actor_user: AbstractBaseUser | None = None,
    run_pk: int | None = None,
) -> tuple[Memory, bool]:
    """Store a memory; returns (memory, created). An exact duplicate returns the existing one."""
    text = clean_text(text)
    topics = clean_topics(topics)
    normalized = normalize_text(text)
    existing = Memory.objects.filter(
        user_id=user_pk, normalized_text=normalized, deleted_at__isnull=True
    ).first()
    if existing is not None:
        return existing, False
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
    return memory, True


def memory_update(
    *,
    memory: Memory,
    text: Any = None,
    topics: Iterable[Any] | None = None,
    actor: str,
    actor_user: AbstractBaseUser | None = None,
    run_pk: int | None = None,
) -> Memory:
    """Change text and/or topics; an update that changes nothing records nothing."""
    before = _snapshot(memory)
    if text is not None:
        memory.text = clean_text(text)
        memory.normalized_text = normalize_text(memory.text)
    if topics is not None:
        memory.topics = clean_topics(topics)
    after = _snapshot(memory)
    if after == before:
        return memory
    with transaction.atomic():
        memory.save(update_fields=["text", "normalized_text", "topics", "updated_at"])
        _record(
            memory,
            action=MemoryChange.Action.UPDATE,
            actor=actor,
            actor_user=actor_user,
            run_pk=run_pk,
            before=before,
            after=after,
        )
    return memory


def memory_delete(
    *,
    memory: Memory,
    actor: str,
    actor_user: AbstractBaseUser | None = None,
    run_pk: int | None = None,
) -> Memory:
    """Soft delete: the memory leaves the context at once and can be restored."""
    if memory.deleted_at is not None:
        return memory
    with transaction.atomic():
        memory.deleted_at = timezone.now()
        memory.save(update_fields=["deleted_at", "updated_at"])
        _record(
            memory,
            action=MemoryChange.Action.DELETE,
            actor=actor,
            actor_user=actor_user,
            run_pk=run_pk,
            before=_snapshot(memory),
            after=None,
        )
    return memory
