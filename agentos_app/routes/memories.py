"""AgentOS's memories (the text is `memory`): pages, topics, stats per person, writes audited as
the API's, merging duplicates."""

# No `from __future__ import annotations`: ninja reads the annotations of the routes at import.

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from agentapp.api_types import Id
from agentapp.errors import NotFound
from agentapp.ownership import acting_user, caller
from agentos_app import selectors, shapes
from agentos_app.schemas import (
    DeleteMemoriesIn,
    MemoryFilters,
    MemoryIn,
    MemoryOut,
    MemoryPageOut,
    MemoryScope,
    OptimizeMemoriesIn,
    OptimizeMemoriesOut,
    OsErrorOut,
    StatsFilters,
    UserStatsPageOut,
)
from memory_app import optimization
from memory_app import selectors as memory_selectors
from memory_app import services as memory_services
from sessions_app.ratelimit import run_rate_limit_check

from .common import API, ERRORS, agent_id, named_person, page_of

router = Router(tags=["memories"])


def _memory(request: HttpRequest, memory_id: str, user_id: str | None) -> Any:
    memory = memory_selectors.memory_get_for_viewer(
        memory_id=memory_id, viewer=caller(request), include_deleted=False
    )
    person = named_person(request, user_id)
    if person is not None and memory.user_id != person.pk:
        raise NotFound(f"memory {memory_id!r} not found")
    return memory


@router.post("/memories", response={200: MemoryOut, **ERRORS}, summary="Create a memory")
def memory_create(request: HttpRequest, payload: MemoryIn, scope: Query[MemoryScope]):
    with transaction.atomic():  # a refused memory leaves no new person behind
        person = acting_user(request, payload.user_id, create=True)
        memory, _ = memory_services.memory_create(
            user_pk=person.pk,
            text=payload.memory,
            topics=payload.topics,
            actor=API,
            actor_user=caller(request),
        )
    return shapes.memory_row(memory)


@router.get("/memories", response={200: MemoryPageOut, **ERRORS}, summary="List memories")
def memory_list(request: HttpRequest, filters: Query[MemoryFilters]):
    """A person's current memories; with a service key and no `user_id`, everyone's it may act for."""
    memories = selectors.memories_visible(
        viewer=caller(request),
        person=named_person(request, filters.user_id),
        topics=filters.topics,
        search=filters.search_content or "",
        sort_by=filters.sort_by,
        sort_order=filters.sort_order,
    )
    if filters.agent_id not in (None, agent_id()) or filters.team_id is not None:
        memories = memories.none()
    rows, meta = page_of(memories, page=filters.page, limit=filters.limit)
    return {"data": [shapes.memory_row(memory) for memory in rows], "meta": meta}


@router.delete("/memories", response={204: None, **ERRORS}, summary="Delete memories")
def memory_delete_many(request: HttpRequest, payload: DeleteMemoriesIn, scope: Query[MemoryScope]):
    """All or none: every memory named must be one the caller may delete (else 404, naming it)."""
    with transaction.atomic():
        memories = [
            _memory(request, memory_id, payload.user_id) for memory_id in dict.fromkeys(payload.memory_ids)
        ]
        for memory in memories:
            memory_services.memory_delete(memory=memory, actor=API, actor_user=caller(request))
    return Status(204, None)


@router.get("/memories/{memory_id}", response={200: MemoryOut, **ERRORS}, summary="One memory")
def memory_detail(request: HttpRequest, memory_id: Id, scope: Query[MemoryScope]):
    return shapes.memory_row(_memory(request, memory_id, scope.user_id))


@router.patch(
    "/memories/{memory_id}", response={200: MemoryOut, 409: OsErrorOut, **ERRORS}, summary="Update a memory"
)
def memory_update(request: HttpRequest, memory_id: Id, payload: MemoryIn, scope: Query[MemoryScope]):
    memory = _memory(request, memory_id, payload.user_id)
    memory = memory_services.memory_update(
        memory=memory, text=payload.memory, topics=payload.topics, actor=API, actor_user=caller(request)
    )
    return shapes.memory_row(memory)


@router.delete("/memories/{memory_id}", response={204: None, **ERRORS}, summary="Delete a memory")
def memory_delete(request: HttpRequest, memory_id: Id, scope: Query[MemoryScope]):
    """A soft delete, as on /api/: the memory leaves the agent's context; its history can revert it."""
    memory = _memory(request, memory_id, scope.user_id)
    memory_services.memory_delete(memory=memory, actor=API, actor_user=caller(request))
    return Status(204, None)


@router.get("/memory_topics", response={200: list[str], **ERRORS}, summary="The memories' topics")
def memory_topics(request: HttpRequest, scope: Query[MemoryScope]):
    return selectors.memory_topics_visible(
        viewer=caller(request), person=named_person(request, scope.user_id)
    )


@router.get("/user_memory_stats", response={200: UserStatsPageOut, **ERRORS}, summary="Memories per person")
def user_memory_stats(request: HttpRequest, filters: Query[StatsFilters]):
    stats = selectors.memory_stats_visible(
        viewer=caller(request), person=named_person(request, filters.user_id)
    )
    rows, meta = page_of(stats, page=filters.page, limit=filters.limit)
    data = [
        {
            "user_id": row["user__username"],
            "total_memories": row["total_memories"],
            "last_memory_updated_at": row["last_memory_updated_at"],
        }
        for row in rows
    ]
    return {"data": data, "meta": meta}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # a rough count, for the report AgentOS gives


@router.post(
    "/optimize-memories",
    response={200: OptimizeMemoriesOut, 429: OsErrorOut, 503: OsErrorOut, **ERRORS},
    summary="Merge a person's duplicate memories",
)
def memories_optimize(request: HttpRequest, payload: OptimizeMemoriesIn, scope: Query[MemoryScope]):
    """The app's model merges the person's duplicates (made with `apply`, the default; a dry run
    without). `model` is not chosen per request here: the app's model answers."""
    person = acting_user(request, payload.user_id)
    run_rate_limit_check(user=caller(request))
    before = list(selectors.memories_visible(viewer=caller(request), person=person, sort_order="asc"))
    plan = optimization.memories_optimize(
        owner=person, acting_user=caller(request), actor=API, apply=payload.apply
    )
    if plan.applied:
        after = [
            shapes.memory_row(m)
            for m in selectors.memories_visible(viewer=caller(request), person=person, sort_order="asc")
        ]
    else:
        merged = {sid for merge in plan.merges if not merge.error for sid in merge.source_ids}
        kept = [shapes.memory_row(m) for m in before if m.memory_id not in merged]
        planned = [
            {**shapes.memory_row(before[0]), "memory_id": "", "memory": merge.memory, "topics": merge.topics}
            for merge in plan.merges
            if not merge.error and before
        ]
        after = kept + planned
    tokens_before = sum(_tokens(m.text) for m in before)
    tokens_after = sum(_tokens(m["memory"]) for m in after)
    saved = max(0, tokens_before - tokens_after)
    return {
        "memories": after,
        "memories_before": len(before),
        "memories_after": len(after),
        "tokens_before": tokens_before,
        "tokens_after": tokens_after,
        "tokens_saved": saved,
        "reduction_percentage": round(100 * saved / tokens_before, 2) if tokens_before else 0.0,
    }
