"""Memories proposed for the person's review (their settings ask for it): proposed by the agent, then
kept or discarded by the person. Each decision is a MemoryChange; a kept proposal is written as the
memory write it stood for (created, superseding its target, or correcting it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from agentapp.errors import Conflict
from sessions_app.models import Erasure

from ..models import Memory, MemoryChange, MemoryProposal
from .changes import _check_actor
from .memories import memory_create, memory_update, run_remembers
from .text import clean_text, clean_topics, normalize_text
from .validity import memory_supersede


def proposal_create(
    *,
    user_pk: int,
    text: Any,
    topics: Iterable[Any] | None = None,
    actor: str,
    change: str = MemoryProposal.Change.CREATE,
    target: Memory | None = None,
    run_pk: int | None = None,
    run_began_at: datetime | None = None,
) -> MemoryProposal:
    """Propose a memory for the person's review; the same text still waiting is returned as it is.

    Refused (Conflict) when the person's data was erased since the run began, or the person asked
    that nothing be learned from the run: as a memory write would be."""
    _check_actor(actor)
    text = clean_text(text)
    topics = clean_topics(topics)
    if change not in MemoryProposal.Change.values:
        raise ValueError(f"unknown proposed change {change!r}")
    if change != MemoryProposal.Change.CREATE and (target is None or target.user_id != user_pk):
        raise ValueError("a proposed change of a memory names one of the person's memories")
    normalized = normalize_text(text)
    try:
        with transaction.atomic():  # the foreign keys are checked at this commit
            if run_pk is not None:
                run_remembers(run_pk)
            waiting = MemoryProposal.objects.filter(user_id=user_pk, state=MemoryProposal.State.PROPOSED)
            for proposal in waiting.filter(target=target):
                if normalize_text(proposal.text) == normalized:
                    return proposal
            return MemoryProposal.objects.create(
                user_id=user_pk,
                text=text,
                topics=topics,
                change=change,
                target=target,
                source_run_id=run_pk,
                actor=actor,
            )
    except IntegrityError:
        if run_pk is None:
            raise
    # The run is gone: its session deleted (the proposal is the person's), or the person erased.
    erased = Erasure.objects.filter(user_id=user_pk)
    if run_began_at is not None:
        erased = erased.filter(erased_at__gte=run_began_at)
    if erased.exists():
        raise Conflict("this person's data was erased meanwhile; nothing was proposed")
    return MemoryProposal.objects.create(
        user_id=user_pk, text=text, topics=topics, change=change, target=target, actor=actor
    )


def _pending_locked(proposal: MemoryProposal) -> MemoryProposal:
    current = (
        MemoryProposal.objects.select_for_update(of=("self",)).select_related("target").get(pk=proposal.pk)
    )
    if current.state != MemoryProposal.State.PROPOSED:
        raise Conflict(f"this proposal was already {current.state}")
    return current


def proposal_keep(
    *,
    proposal: MemoryProposal,
    actor: str = MemoryChange.Actor.PERSON,
    actor_user: User | None = None,
    text: Any = None,
    topics: Iterable[Any] | None = None,
) -> Memory:
    """Keep a proposal (edited first when `text` or `topics` are given): the memory write it stood
    for is made, by the person, and the decision recorded. A target no longer current makes a
    supersession or a correction a new memory (the person kept the fact, not the edit)."""
    _check_actor(actor)
    with transaction.atomic():
        current = _pending_locked(proposal)
        new_text = current.text if text is None else text
        new_topics = current.topics if topics is None else topics
        target = current.target
        run_pk = current.source_run_id
        change_of: dict[str, Callable[..., Memory]] = {
            MemoryProposal.Change.SUPERSEDE: memory_supersede,
            MemoryProposal.Change.UPDATE: memory_update,
        }
        if target is not None and target.is_current and current.change in change_of:
            memory = change_of[current.change](
                memory=target,
                text=new_text,
                topics=new_topics,
                actor=actor,
                actor_user=actor_user,
                run_pk=run_pk,
            )
        else:
            memory, _ = memory_create(
                user_pk=current.user_id,
                text=new_text,
                topics=new_topics,
                actor=actor,
                actor_user=actor_user,
                run_pk=run_pk,
            )
        _decide(current, MemoryProposal.State.KEPT, actor=actor, actor_user=actor_user, memory=memory)
    proposal.state, proposal.kept_as = current.state, memory
    return memory


def proposal_discard(
    *, proposal: MemoryProposal, actor: str = MemoryChange.Actor.PERSON, actor_user: User | None = None
) -> MemoryProposal:
    """Discard a proposal: nothing is remembered, and the decision is recorded."""
    _check_actor(actor)
    with transaction.atomic():
        current = _pending_locked(proposal)
        _decide(current, MemoryProposal.State.DISCARDED, actor=actor, actor_user=actor_user, memory=None)
    proposal.state = current.state
    return current


def proposals_discard_for_run(*, run_pk: int, actor: str, actor_user: User | None = None) -> int:
    """Discard every proposal a run is still waiting on (the person asked to forget what it learned)."""
    waiting = MemoryProposal.objects.select_for_update().filter(
        source_run_id=run_pk, state=MemoryProposal.State.PROPOSED
    )
    count = 0
    with transaction.atomic():
        for proposal in waiting:
            _decide(proposal, MemoryProposal.State.DISCARDED, actor=actor, actor_user=actor_user, memory=None)
            count += 1
    return count


def _decide(
    proposal: MemoryProposal, state: str, *, actor: str, actor_user: User | None, memory: Memory | None
) -> None:
    proposal.state = state
    proposal.decided_at = timezone.now()
    proposal.kept_as = memory
    proposal.save(update_fields=["state", "decided_at", "kept_as"])
    kept = state == MemoryProposal.State.KEPT
    MemoryChange.objects.create(
        memory=memory,
        proposal=proposal,
        user_id=proposal.user_id,
        action=MemoryChange.Action.KEEP if kept else MemoryChange.Action.DISCARD,
        actor=actor,
        actor_user=actor_user,
        run=None,
        before={"text": proposal.text, "topics": list(proposal.topics), "change": proposal.change},
        after={"text": memory.text, "topics": list(memory.topics)} if memory is not None else None,
    )


__all__ = ["proposal_create", "proposal_discard", "proposal_keep", "proposals_discard_for_run"]
