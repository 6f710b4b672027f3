"""Memories over HTTP. Every write goes through the services and leaves the same audit trail (actor: API)."""

# No `from __future__ import annotations`: ninja resolves the annotations of a @paginate-wrapped
# view in its own module, where string annotations naming our schemas cannot be found.

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from agentapp.api_types import OBJECT_ERRORS, ErrorOut, Id, Page
from agentapp.errors import InvalidInput, MemoryNotFound
from agentapp.ownership import acting_user, caller

from . import selectors, services
from .models import Memory, MemoryChange
from .schemas import (
    MemoryChangeOut,
    MemoryExpireIn,
    MemoryFilters,
    MemoryIn,
    MemoryListItem,
    MemoryOut,
    MemoryPatchIn,
    MemoryProposalApproveIn,
    MemoryProposalOut,
    TopicFilters,
    TopicOut,
)
from .search import memory_search

router = Router(tags=["memories"])
topics_router = Router(tags=["memories"])

API = MemoryChange.Actor.API
MAX_PK = 2**63 - 1


@router.get("", response={200: list[MemoryListItem], **OBJECT_ERRORS})
@paginate(Page)
def memory_list(request: HttpRequest, filters: Query[MemoryFilters]):
    """The person's memories; with `state`, the memories proposed for their review instead."""
    user = acting_user(request, filters.user_id)
    if filters.state is not None:
        if filters.as_of is not None or filters.include_superseded:
            raise InvalidInput("as_of and include_superseded are for memories: leave them out with state")
        return selectors.proposals_for_user(
            user_pk=user.pk, state=filters.state, query=filters.search, topic=filters.topic
        )
    memories = memory_search(
        user_pk=user.pk,
        query=filters.search,
        topic=filters.topic,
        mode=filters.mode,
        as_of=filters.as_of,
        include_superseded=filters.include_superseded,
    )
    replaced = Prefetch("supersedes", queryset=Memory.objects.live())
    return memories.select_related("user", "source_run", "superseded_by").prefetch_related(replaced)


@router.post("", response={200: MemoryOut, 201: MemoryOut, 409: ErrorOut, **OBJECT_ERRORS})
def memory_create(request: HttpRequest, payload: MemoryIn):
    """201 with the new memory; 200 with the existing one when the same text is already remembered.
    With `replaces`, the new fact supersedes that memory (which must be current: else 409)."""
    if payload.valid_from is not None and payload.replaces is None:
        raise InvalidInput("valid_from is for a fact that replaces another: send replaces too")
    with transaction.atomic():  # a refused memory leaves no new person behind
        user = acting_user(request, payload.user_id, create=True)
        if payload.replaces is not None:
            return _memory_replace(request, payload, user_pk=user.pk)
        memory, created = services.memory_create(
            user_pk=user.pk, text=payload.text, topics=payload.topics, actor=API, actor_user=caller(request)
        )
    return Status(201 if created else 200, memory)


def _memory_replace(request: HttpRequest, payload: MemoryIn, *, user_pk: int) -> Status:
    old = selectors.memory_get_for_viewer(
        memory_id=payload.replaces, viewer=caller(request), include_deleted=False
    )
    if old.user_id != user_pk:  # another person's memory, even one the caller may see, is not found
        raise MemoryNotFound(f"memory {payload.replaces!r} not found for this person")
    started = timezone.now()
    memory = services.memory_supersede(
        memory=old,
        text=payload.text,
        topics=payload.topics if "topics" in payload.model_fields_set else None,
        valid_from=payload.valid_from,
        actor=API,
        actor_user=caller(request),
    )
    # An identical current memory replaces it rather than a second copy: that one answers 200.
    return Status(201 if memory.created_at >= started else 200, memory)


@router.get("/{memory_id}", response={200: MemoryOut, **OBJECT_ERRORS})
def memory_detail(request: HttpRequest, memory_id: Id):
    return selectors.memory_get_for_viewer(memory_id=memory_id, viewer=caller(request), include_deleted=False)


@router.patch("/{memory_id}", response={200: MemoryOut, 409: ErrorOut, **OBJECT_ERRORS})
def memory_update(request: HttpRequest, memory_id: Id, payload: MemoryPatchIn):
    memory = selectors.memory_get_for_viewer(
        memory_id=memory_id, viewer=caller(request), include_deleted=False
    )
    return services.memory_update(
        memory=memory, text=payload.text, topics=payload.topics, actor=API, actor_user=caller(request)
    )


@router.post("/{memory_id}/expire", response={200: MemoryOut, 409: ErrorOut, **OBJECT_ERRORS})
def memory_expire(request: HttpRequest, memory_id: Id, payload: MemoryExpireIn | None = None):
    """No longer true, with nothing in its place: the memory is closed (at `valid_to`, default now)
    and leaves the agent's context; 409 when it is closed already. Its `expire` change reverts it."""
    memory = selectors.memory_get_for_viewer(
        memory_id=memory_id, viewer=caller(request), include_deleted=False
    )
    valid_to = payload.valid_to if payload is not None else None
    return services.memory_expire(memory=memory, valid_to=valid_to, actor=API, actor_user=caller(request))


@router.delete("/{memory_id}", response={204: None, **OBJECT_ERRORS})
def memory_delete(request: HttpRequest, memory_id: Id):
    """A soft delete: the memory leaves the agent's context; its history can revert it."""
    memory = selectors.memory_get_for_viewer(
        memory_id=memory_id, viewer=caller(request), include_deleted=False
    )
    services.memory_delete(memory=memory, actor=API, actor_user=caller(request))
    return Status(204, None)


@router.get("/{memory_id}/history", response={200: list[MemoryChangeOut], **OBJECT_ERRORS})
def memory_history(request: HttpRequest, memory_id: Id):
    """The memory's changes, newest first. A deleted memory is gone (404) like any deleted resource;
    the error's `detail` names the change that deleted it, which `revert` undoes."""
    memory = selectors.memory_get_for_viewer(
        memory_id=memory_id, viewer=caller(request), include_deleted=True
    )
    if memory.deleted_at is not None:
        deletion = selectors.memory_deletion(memory=memory)
        change_id = deletion.pk if deletion else None
        raise MemoryNotFound(
            f"memory {memory_id!r} was deleted; POST …/revert/{change_id} restores it",
            detail={"deleted_at": memory.deleted_at.isoformat(), "change_id": change_id},
        )
    return selectors.memory_changes(memory=memory)


@router.post("/{memory_id}/revert/{change_id}", response={200: MemoryOut, 409: ErrorOut, **OBJECT_ERRORS})
def memory_revert(request: HttpRequest, memory_id: Id, change_id: int = Path(..., ge=1, le=MAX_PK)):
    """Return the memory to its state before that change (a revert is itself a change, with `reverts`)."""
    memory = selectors.memory_get_for_viewer(
        memory_id=memory_id, viewer=caller(request), include_deleted=True
    )
    change = selectors.memory_change_get_for_viewer(change_pk=change_id, viewer=caller(request))
    if change.memory_id != memory.pk:
        raise MemoryNotFound(f"memory change {change_id} not found for memory {memory_id!r}")
    return services.memory_revert(change=change, actor=API, actor_user=caller(request))


@router.post("/{proposal_id}/approve", response={200: MemoryOut, 409: ErrorOut, **OBJECT_ERRORS})
def memory_proposal_approve(
    request: HttpRequest, proposal_id: Id, payload: MemoryProposalApproveIn | None = None
):
    """Keep a memory proposed for the person's review (`text`, `topics`: edited first); answers the
    memory it became. A proposal to supersede or correct a memory does so now (a target deleted or
    closed meanwhile: a new memory instead). 409 when it was decided already."""
    proposal = selectors.proposal_get_for_viewer(proposal_id=proposal_id, viewer=caller(request))
    memory = services.proposal_keep(
        proposal=proposal,
        text=payload.text if payload is not None else None,
        topics=payload.topics if payload is not None else None,
        actor=API,
        actor_user=caller(request),
    )
    return _memory_for_output(memory)


@router.post("/{proposal_id}/reject", response={200: MemoryProposalOut, 409: ErrorOut, **OBJECT_ERRORS})
def memory_proposal_reject(request: HttpRequest, proposal_id: Id):
    """Discard a memory proposed for the person's review: nothing is remembered; answers the proposal,
    `discarded`. 409 when it was decided already."""
    proposal = selectors.proposal_get_for_viewer(proposal_id=proposal_id, viewer=caller(request))
    return services.proposal_discard(proposal=proposal, actor=API, actor_user=caller(request))


def _memory_for_output(memory: Memory) -> Memory:
    replaced = Prefetch("supersedes", queryset=Memory.objects.live())
    memories = Memory.objects.select_related("user", "source_run", "superseded_by")
    return memories.prefetch_related(replaced).get(pk=memory.pk)


@topics_router.get("", response={200: list[TopicOut], **OBJECT_ERRORS})
def memory_topic_list(request: HttpRequest, filters: Query[TopicFilters]):
    user = acting_user(request, filters.user_id)
    return [{"topic": topic, "count": count} for topic, count in selectors.memory_topics(user_pk=user.pk)]
