"""Everything stored about one person: exported as one JSON document, or erased with counts."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from agentapp.errors import InvalidInput
from memory_app.models import Memory, MemoryChange, MemoryProposal
from sessions_app.exports import session_export, sessions_for_export
from sessions_app.models import (
    AgentSession,
    Erasure,
    Message,
    PersonSettings,
    Run,
    RunEvent,
    RunFeedback,
    SessionSummary,
)
from sessions_app.selectors import person_settings
from sessions_app.services import runs_lock

from .models import Preferences, Theme
from .selectors import theme_for_user

audit = logging.getLogger("agentapp.audit")

ERASED = {
    AgentSession: "sessions",
    Run: "runs",
    Message: "messages",
    RunEvent: "events",
    SessionSummary: "summaries",
    Memory: "memories",
    MemoryChange: "memory_changes",
    MemoryProposal: "memory_proposals",
    RunFeedback: "feedback",
    PersonSettings: "settings",
}


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def _memory(memory: Memory) -> dict[str, Any]:
    return {
        "memory_id": memory.memory_id,
        "text": memory.text,
        "topics": memory.topics,
        "created_at": _when(memory.created_at),
        "updated_at": _when(memory.updated_at),
        "deleted_at": _when(memory.deleted_at),
        "valid_from": _when(memory.valid_from),
        "valid_to": _when(memory.valid_to),
        "superseded_by": memory.superseded_by.memory_id if memory.superseded_by is not None else None,
        "input": memory.input or None,  # Agno's: what was said that taught it, when its writer told
        "agent_id": memory.agent_id or None,
        "history": [
            {
                "action": c.action,
                "actor": c.actor,
                "proposal_id": c.proposal.proposal_id if c.proposal is not None else None,
                "before": c.before,
                "after": c.after,
                "created_at": _when(c.created_at),
            }
            for c in memory.changes.all()
        ],
    }


def _proposal(proposal: MemoryProposal) -> dict[str, Any]:
    """A memory proposed for review, with the person's decision (kept as which memory, or discarded)."""
    decisions = [
        c
        for c in proposal.changes.all()
        if c.action in (MemoryChange.Action.KEEP, MemoryChange.Action.DISCARD)
    ]
    decision = decisions[-1] if decisions else None
    return {
        "proposal_id": proposal.proposal_id,
        "text": proposal.text,
        "topics": proposal.topics,
        "change": proposal.change,
        "target": proposal.target.memory_id if proposal.target is not None else None,
        "source_run_id": proposal.source_run.run_id if proposal.source_run is not None else None,
        "proposed_by": proposal.actor,
        "state": proposal.state,
        "created_at": _when(proposal.created_at),
        "decided_at": _when(proposal.decided_at),
        "decided_by": decision.actor if decision is not None else None,
        "kept_as": proposal.kept_as.memory_id if proposal.kept_as is not None else None,
    }


def _settings(user: User) -> dict[str, Any]:
    chosen = person_settings(user_pk=user.pk)
    return {
        "saved": chosen.pk is not None,  # False: the operator's defaults, never changed by the person
        "about_you": chosen.about_you,
        "how_to_respond": chosen.how_to_respond,
        "use_memories": chosen.use_memories,
        "learn_memories": chosen.learn_memories,
        "review_memories": chosen.review_memories,
        "updated_at": _when(chosen.updated_at),
        "theme": theme_for_user(user=user),
    }


def user_data_export(*, user: User) -> dict[str, Any]:
    """Their settings, sessions (temporary ones not yet deleted too; with summaries, runs, messages,
    events, feedback), memories (deleted ones too, with history) and the memories proposed for
    their review with their decisions.

    A fixed number of queries whatever the volume: one per relation, prefetched.
    """
    # Not the chats they deleted (which they may still undo): hidden, as everywhere.
    kept = AgentSession.objects.filter(user=user, deleted_at__isnull=True)
    sessions = sessions_for_export(kept).order_by("created_at", "id")
    changes = MemoryChange.objects.select_related("proposal").order_by("created_at", "id")
    memories = (
        Memory.objects.filter(user=user)
        .select_related("superseded_by")
        .prefetch_related(Prefetch("changes", queryset=changes))
        .order_by("created_at", "id")
    )
    proposals = (
        MemoryProposal.objects.filter(user=user)
        .select_related("target", "source_run", "kept_as")
        .prefetch_related(Prefetch("changes", queryset=MemoryChange.objects.order_by("created_at", "id")))
        .order_by("created_at", "id")
    )
    return {
        "user_id": user.get_username(),
        "exported_at": timezone.now(),
        "settings": _settings(user),
        "sessions": [session_export(s) for s in sessions],
        "memories": [_memory(m) for m in memories],
        "memory_proposals": [_proposal(p) for p in proposals],
    }


def user_data_counts(*, user: User) -> dict[str, int]:
    """How much is stored about the person: what the data page shows before an export or erasure."""
    return {
        "sessions": AgentSession.objects.filter(user=user, deleted_at__isnull=True).count(),
        "runs": Run.objects.filter(user=user, session__deleted_at__isnull=True).count(),
        "memories": Memory.objects.filter(user=user, deleted_at__isnull=True).count(),
    }


def user_data_erase(*, user: User, by: User | None = None) -> dict[str, int]:
    """Delete the person's sessions, runs, messages, events, summaries, memories, memory history and
    proposals, the feedback they gave and their settings (custom instructions are about them).

    The account itself stays (it may be a login); its API keys stay too. Returns what was deleted:
    `memories` counts what the data page counted (the memories the person sees), `deleted_memories`
    the ones they had deleted before (kept until now for their history and Undo).
    An erasure `by` someone else (an operator, a service key) is written to the audit log.
    """
    counts: Counter[str] = Counter()
    with transaction.atomic():
        runs_lock(runs=Run.objects.filter(user=user))
        deleted_before = Memory.objects.filter(user=user, deleted_at__isnull=False).count()
        Erasure.objects.create(user=user, by=by)
        # The chats they deleted, which they could still undo, go too, uncounted as the page counted them.
        AgentSession.objects.filter(user=user, deleted_at__isnull=False).delete()
        for queryset in (
            MemoryProposal.objects.filter(user=user),
            Memory.objects.filter(user=user),
            MemoryChange.objects.filter(user=user),
            RunFeedback.objects.filter(user=user),
            PersonSettings.objects.filter(user=user),
            AgentSession.objects.filter(user=user),
            Run.objects.filter(user=user),
        ):
            _, per_model = queryset.delete()
            for label, number in per_model.items():
                counts[label] += number
    by_label = {model._meta.label: name for model, name in ERASED.items()}
    result = dict.fromkeys(ERASED.values(), 0)
    for label, number in counts.items():
        if label in by_label:
            result[by_label[label]] += number
    result["memories"] -= deleted_before
    result["deleted_memories"] = deleted_before
    if by is not None and by.pk != user.pk:
        audit.warning("%s erased the data of %s: %s", by.get_username(), user.get_username(), result)
    return result


def preferences_set_theme(*, user: User, theme: str) -> Preferences:
    """Keep the theme the person chose (light, dark, or "system": follow the device)."""
    if theme not in Theme.values:
        raise InvalidInput(f"theme must be one of: {', '.join(Theme.values)}")
    preferences, _ = Preferences.objects.update_or_create(user=user, defaults={"theme": theme})
    return preferences
