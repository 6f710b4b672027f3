from __future__ import annotations

from django.db.models import QuerySet

from agentapp.errors import MemoryNotFound

from .models import Memory


def memories_active(*, user_pk: int) -> QuerySet[Memory]:
    return Memory.objects.filter(user_id=user_pk, deleted_at__isnull=True).order_by("-updated_at", "-id")


def memories_for_context(*, user_pk: int, limit: int) -> list[Memory]:
    """The most recently updated memories, bounded so the context stays bounded."""
    return list(memories_active(user_pk=user_pk)[: max(0, limit)])


def memory_get_for_user(*, memory_id: str, user_pk: int, include_deleted: bool = False) -> Memory:
    """The user's memory; another user's id is not found, exactly like an id that never existed."""
    memories = Memory.objects.filter(memory_id=memory_id, user_id=user_pk)
    if not include_deleted:
        memories = memories.filter(deleted_at__isnull=True)
    memory = memories.first()
    if memory is None:
        raise MemoryNotFound(f"memory {memory_id!r} not found")
    return memory
