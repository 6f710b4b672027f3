from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from agentapp import sql
from agentapp.errors import MemoryNotFound
from agentapp.ownership import one_visible_to
from sessions_app.selectors import MISSED_BATCH, runs_settled

from .models import Memory, MemoryChange, MemoryExtraction

# Must stay identical to the index expression in migrations/0003_memory_search_gin.py.
SEARCH_DOCUMENT_SQL = (
    "to_tsvector('english'::regconfig, COALESCE(\"memory_app_memory\".\"text\", '') || ' ' || "
    'COALESCE("memory_app_memory"."topics"::text, \'\'))'
)
MAX_QUERY_WORDS = 12
RETRY_BACKOFF_MAX_SECONDS = 300  # the memory task's retry_backoff_max


def memories_active(*, user_pk: int) -> QuerySet[Memory]:
    return Memory.objects.filter(user_id=user_pk, deleted_at__isnull=True).order_by("-updated_at", "-id")


def memories_for_username(*, username: str, limit: int | None = None) -> list[Memory]:
    """The active memories of the user named `username` (none for an unknown one), newest first."""
    owner = {f"user__{get_user_model().USERNAME_FIELD}": username}
    memories = Memory.objects.filter(**owner, deleted_at__isnull=True).order_by("-updated_at", "-id")
    if limit is not None:
        memories = memories[: max(0, limit)]
    return list(memories)


def memories_for_context(*, user_pk: int, limit: int) -> list[dict[str, Any]]:
    """The most recently updated memories (id, text, topics), bounded so the context stays bounded.

    Read on every turn, so written as SQL (see agentapp.sql); the order is `memories_active`'s.
    """
    rows = sql.fetch(
        f"SELECT memory_id, text, topics FROM {sql.table(Memory)} WHERE user_id = %s AND deleted_at IS NULL "
        "ORDER BY updated_at DESC, id DESC LIMIT %s",
        [user_pk, max(0, limit)],
    )
    return [
        {"memory_id": mid, "text": text, "topics": sql.json_column(topics) or []}
        for mid, text, topics in rows
    ]


def memory_get_for_user(*, memory_id: str, user_pk: int, include_deleted: bool = False) -> Memory:
    """The user's memory; another user's id is not found, exactly like an id that never existed."""
    memories = Memory.objects.filter(memory_id=memory_id, user_id=user_pk)
    if not include_deleted:
        memories = memories.filter(deleted_at__isnull=True)
    memory = memories.first()
    if memory is None:
        raise MemoryNotFound(f"memory {memory_id!r} not found")
    return memory


def memory_get_for_viewer(*, memory_id: str, viewer: User, include_deleted: bool = True) -> Memory:
    """A memory the signed-in person may see: their own, or anyone's for staff."""
    memories = Memory.objects.select_related("user", "source_run").filter(memory_id=memory_id)
    if not include_deleted:
        memories = memories.filter(deleted_at__isnull=True)
    return one_visible_to(
        memories, viewer=viewer, not_found=MemoryNotFound(f"memory {memory_id!r} not found")
    )


def memory_change_get_for_viewer(*, change_pk: int, viewer: User) -> MemoryChange:
    return one_visible_to(
        MemoryChange.objects.select_related("memory", "memory__user").filter(pk=change_pk),
        viewer=viewer,
        not_found=MemoryNotFound(f"memory change {change_pk} not found"),
    )


def _tsquery(query: str) -> str:
    # Only word characters reach to_tsquery, so its operators in the input cannot break the query;
    # each word matches as a prefix, which is what search-as-you-type needs.
    words = re.findall(r"[^\W_]+", query)[:MAX_QUERY_WORDS]
    return " & ".join(f"{word}:*" for word in words)


def memories_filter_topic(memories: QuerySet[Memory], topic: str) -> QuerySet[Memory]:
    topic = " ".join(topic.lower().split())
    if not topic:
        return memories
    return memories.filter(topics__contains=[topic])


def memories_search(*, user_pk: int, query: str = "", topic: str = "") -> QuerySet[Memory]:
    """Active memories matching `query` (PostgreSQL full text, each word a prefix), newest first."""
    return memories_matching(memories_filter_topic(memories_active(user_pk=user_pk), topic), query)


def memories_matching(memories: QuerySet[Memory], query: str) -> QuerySet[Memory]:
    query = query.strip()
    if not query:
        return memories
    tsquery = _tsquery(query)
    if not tsquery:
        return memories.none()
    document = RawSQL(SEARCH_DOCUMENT_SQL, [], output_field=SearchVectorField())
    return memories.annotate(document=document).filter(
        document=SearchQuery(tsquery, config="english", search_type="raw")
    )


def memory_topics(*, user_pk: int) -> list[tuple[str, int]]:
    """Each topic of the user's active memories with how many carry it; most used first."""
    counts: Counter[str] = Counter()
    for topics in memories_active(user_pk=user_pk).values_list("topics", flat=True):
        counts.update(t for t in topics or () if isinstance(t, str))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def memory_changes(*, memory: Memory) -> QuerySet[MemoryChange]:
    return (
        MemoryChange.objects.filter(memory=memory)
        .select_related("actor_user", "run", "reverts")
        .order_by("-created_at", "-id")
    )


def memories_export(*, user_pk: int) -> dict[str, Any]:
    """The user's active memories as a JSON-ready document that memories_import reads back."""
    user = get_user_model().objects.get(pk=user_pk)
    return {
        "version": 1,
        "user_id": user.get_username(),
        "memories": [
            {
                "memory_id": m.memory_id,
                "memory": m.text,
                "topics": list(m.topics),
                "created_at": m.created_at.isoformat(),
                "updated_at": m.updated_at.isoformat(),
            }
            for m in memories_active(user_pk=user_pk)
        ],
    }


def runs_missing_memory_update(
    *, settled_before: timedelta, horizon: timedelta, lease: timedelta
) -> list[str]:
    """Completed runs whose automatic memory update never started (no MemoryExtraction: the broker lost
    its task) or whose claim outlived its lease (its worker was killed): the sweep sends them again."""
    State = MemoryExtraction.State
    expired = timezone.now() - lease
    # A retry waits at most the tasks' backoff cap before its next attempt claims again.
    retry_expired = expired - timedelta(seconds=RETRY_BACKOFF_MAX_SECONDS)
    live = MemoryExtraction.objects.filter(run=OuterRef("pk")).filter(
        Q(state__in=(State.DONE, State.FAILED))
        | Q(state=State.RUNNING, claimed_at__gte=expired)
        | Q(state=State.RETRYING, claimed_at__gte=retry_expired)
    )
    missing = runs_settled(settled_before=settled_before, horizon=horizon).filter(~Exists(live))
    return list(missing.order_by("id").values_list("run_id", flat=True)[:MISSED_BATCH])
