"""The reads AgentOS's lists need, counted for its `{data, meta}` pages, under ownership's rules:
a person sees their own; an operator (a service key) the people they may act for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Max, QuerySet, Sum

from agentapp.ownership import visible_to
from memory_app.models import Memory
from memory_app.selectors import memories_filter_topic, memories_matching
from sessions_app.models import AgentSession, Run

SESSION_SORT_FIELDS = {"created_at": "created_at", "updated_at": "updated_at", "session_name": "title"}
MEMORY_SORT_FIELDS = {"created_at": "created_at", "updated_at": "updated_at", "memory_id": "memory_id"}


def _ordered(queryset: QuerySet[Any], field: str, sort_order: str) -> QuerySet[Any]:
    if sort_order.lower() == "asc":
        return queryset.order_by(field, "id")
    return queryset.order_by(f"-{field}", "-id")


def sessions_visible(
    *,
    viewer: User,
    person: User | None,
    session_name: str = "",
    sort_by: str = "created_at",
    sort_order: str = "desc",
) -> QuerySet[AgentSession]:
    """Ordinary chats (never a temporary or a deleted one) `viewer` may see; only `person`'s when one
    is named; `session_name` matching part of the title."""
    # A chat its person deleted (and may still undo) is hidden, as from every read of sessions_app.
    kept = AgentSession.objects.select_related("user").filter(temporary=False, deleted_at__isnull=True)
    sessions = visible_to(kept, viewer=viewer)
    if person is not None:
        sessions = sessions.filter(user_id=person.pk)
    if session_name.strip():
        sessions = sessions.filter(title__icontains=session_name.strip())
    return _ordered(sessions, SESSION_SORT_FIELDS.get(sort_by, "created_at"), sort_order)


def session_runs(
    *,
    session: AgentSession,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    statuses: Sequence[str] = (),
) -> QuerySet[Run]:
    """The session's runs, oldest first, as AgentOS lists them: created after or before a moment,
    in any of `statuses` (ours: lower case)."""
    runs = Run.objects.select_related("user", "session", "parent").filter(session=session)
    if created_after is not None:
        runs = runs.filter(created_at__gt=created_after)
    if created_before is not None:
        runs = runs.filter(created_at__lt=created_before)
    if statuses:
        runs = runs.filter(status__in=statuses)
    return runs.order_by("created_at", "id")


def session_tokens(*, session: AgentSession) -> int:
    return int(Run.objects.filter(session=session).aggregate(total=Sum("total_tokens"))["total"] or 0)


def memories_visible(
    *,
    viewer: User,
    person: User | None,
    topics: Sequence[str] = (),
    search: str = "",
    sort_by: str = "updated_at",
    sort_order: str = "desc",
) -> QuerySet[Memory]:
    """Current memories `viewer` may see; only `person`'s when one is named; carrying every topic
    in `topics`, matching `search` (full text, each word a prefix)."""
    memories = visible_to(Memory.objects.current().select_related("user"), viewer=viewer)
    if person is not None:
        memories = memories.filter(user_id=person.pk)
    for topic in topics:
        memories = memories_filter_topic(memories, topic)
    memories = memories_matching(memories, search)
    return _ordered(memories, MEMORY_SORT_FIELDS.get(sort_by, "updated_at"), sort_order)


def memory_topics_visible(*, viewer: User, person: User | None) -> list[str]:
    memories = visible_to(Memory.objects.current(), viewer=viewer)
    if person is not None:
        memories = memories.filter(user_id=person.pk)
    found: set[str] = set()
    for topics in memories.values_list("topics", flat=True):
        found.update(t for t in topics or () if isinstance(t, str))
    return sorted(found)


def memory_stats_visible(*, viewer: User, person: User | None) -> QuerySet[Any]:
    """Per person `viewer` may see (or only `person`): how many current memories, and when the last
    one changed; the most recently changed first."""
    memories = visible_to(Memory.objects.current(), viewer=viewer)
    if person is not None:
        memories = memories.filter(user_id=person.pk)
    return (
        memories.values("user__username")
        .annotate(total_memories=Count("id"), last_memory_updated_at=Max("updated_at"))
        .order_by("-last_memory_updated_at", "user__username")
    )
