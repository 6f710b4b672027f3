"""What each MCP tool does, on the Django side: mem0's memory tools over a person's memories.

Plain functions of the asking person (`me`) and the tool's arguments. Writes go through memory_app's
services (actor `mcp`): the person's review setting, the validity and duplicate rules hold as in
the chat. The search is the search box's, in THE ranking's order. Another person's memory is not
found; naming a `user_id` is for a service key (see `agentapp.ownership.person_named`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from agentapp.errors import InvalidInput
from agentapp.ownership import person_named
from memory_app import selectors as memory_selectors
from memory_app import services as memory_services
from memory_app.models import Memory, MemoryChange, MemoryProposal
from memory_app.search import memory_search
from sessions_app.selectors import person_settings

MCP = MemoryChange.Actor.MCP
MAX_LISTED = 500  # get_memories answers at most this many, newest first, and says how many more


def memory_out(memory: Memory) -> dict[str, Any]:
    return {
        "id": memory.memory_id,
        "memory": memory.text,
        "topics": list(memory.topics),
        "user_id": memory.user.get_username(),
        "created_at": memory.created_at.isoformat(),
        "updated_at": memory.updated_at.isoformat(),
    }


def _proposal_out(proposal: MemoryProposal) -> dict[str, Any]:
    return {
        "status": "proposed",
        "proposal_id": proposal.proposal_id,
        "memory": proposal.text,
        "message": "The person reviews new memories first: this one is kept only if they keep it.",
    }


def _reviews(person: User) -> bool:
    return person_settings(user_pk=person.pk).review_memories


def add_memory(me: User, *, text: str, user_id: str | None) -> dict[str, Any]:
    """Stored as given (its embedding follows once it commits, off this call), or proposed for the
    person's review when they asked for that."""
    with transaction.atomic():  # a refused memory leaves no new person behind
        person = person_named(me, user_id, create=True)
        if _reviews(person):
            return _proposal_out(memory_services.proposal_create(user_pk=person.pk, text=text, actor=MCP))
        memory, created = memory_services.memory_create(
            user_pk=person.pk, text=text, actor=MCP, actor_user=me
        )
    return {"status": "added" if created else "already_stored", **memory_out(memory)}


def search_memories(me: User, *, query: str, user_id: str | None, limit: int) -> dict[str, Any]:
    if not query.strip():
        raise InvalidInput("give the query in a few words")
    person = person_named(me, user_id)
    found = memory_search(user_pk=person.pk, query=query).select_related("user")
    return {"results": [memory_out(memory) for memory in found[:limit]]}


def get_memories(me: User, *, user_id: str | None) -> dict[str, Any]:
    person = person_named(me, user_id)
    memories = memory_selectors.memories_active(user_pk=person.pk).select_related("user")
    listed = [memory_out(memory) for memory in memories[: MAX_LISTED + 1]]
    more = memories.count() - MAX_LISTED if len(listed) > MAX_LISTED else 0
    return {"results": listed[:MAX_LISTED], "more": more}


def _memory(me: User, memory_id: str) -> Memory:
    return memory_selectors.memory_get_for_viewer(memory_id=memory_id, viewer=me, include_deleted=False)


def get_memory(me: User, *, memory_id: str) -> dict[str, Any]:
    return memory_out(_memory(me, memory_id))


def update_memory(me: User, *, memory_id: str, text: str) -> dict[str, Any]:
    memory = _memory(me, memory_id)
    if _reviews(memory.user):
        proposal = memory_services.proposal_create(
            user_pk=memory.user_id, text=text, actor=MCP, change=MemoryProposal.Change.UPDATE, target=memory
        )
        return _proposal_out(proposal)
    updated = memory_services.memory_update(memory=memory, text=text, actor=MCP, actor_user=me)
    return {"status": "updated", **memory_out(updated)}


def delete_memory(me: User, *, memory_id: str) -> dict[str, Any]:
    memory = _memory(me, memory_id)
    memory_services.memory_delete(memory=memory, actor=MCP, actor_user=me)
    return {"status": "deleted", "id": memory.memory_id}


def delete_all_memories(me: User, *, user_id: str | None) -> dict[str, Any]:
    """Every memory of the person, past facts too; each deletion audited and restorable."""
    person = person_named(me, user_id)
    with transaction.atomic():
        memories = memory_selectors.memories_in_time(user_pk=person.pk, include_superseded=True)
        deleted = 0
        for memory in memories:
            memory_services.memory_delete(memory=memory, actor=MCP, actor_user=me)
            deleted += 1
    return {"status": "deleted", "deleted": deleted, "user_id": person.get_username()}
