"""The vectors an embedder made of memories, stored while the text is still the one embedded."""

from __future__ import annotations

from django.db import transaction

from ..models import Memory, MemoryEmbedding


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
