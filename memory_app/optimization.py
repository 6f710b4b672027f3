"""Memory optimisation for operators, shared by the memory editor and the admin: a dry run first
(`memories_optimize`: the app's model suggests the merges), then Apply. The dry run's plan travels to
the Apply step signed, so what is applied is exactly what was shown (and the model is not asked
twice), by the operator it was shown to, within PLAN_MAX_AGE. The merges themselves still go through
memory_app.services, which checks every source again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core import signing

from agentapp.agent.memory.optimization import MemoryMerge, OptimizationPlan, apply_plan, optimize_memories
from agentapp.app_agent import configured_model
from agentapp.db import DjangoDb
from agentapp.errors import InvalidInput
from agentapp.ownership import person_named

PLAN_SALT = "memory_app.optimization.plan"
PLAN_MAX_AGE = 60 * 60  # seconds


def memories_optimize(*, owner: User, acting_user: User, actor: str, apply: bool = False) -> OptimizationPlan:
    """The merges of the person's duplicate memories the app's model suggests (the summarise
    strategy); made too with `apply`, each as a change by `acting_user`. Raises ModelError."""
    return optimize_memories(
        db=DjangoDb(acting_user=acting_user),
        model=configured_model(),
        user_id=owner.get_username(),
        apply=apply,
        actor=actor,
    )


def memories_optimize_apply(*, plan: OptimizationPlan, acting_user: User, actor: str) -> OptimizationPlan:
    """Make the merges of a plan a dry run showed, as it showed them (no second model request)."""
    return apply_plan(db=DjangoDb(acting_user=acting_user), plan=plan, actor=actor)


def plan_token(plan: OptimizationPlan, *, operator: User) -> str:
    data: dict[str, Any] = {
        "user": plan.user_id,
        "by": operator.pk,
        "strategy": plan.strategy,
        "read": plan.memories_read,
        "merges": [[m.source_ids, m.memory, m.topics, m.sources] for m in plan.merges],
    }
    return signing.dumps(data, salt=PLAN_SALT, compress=True)


def plan_from_token(token: str, *, operator: User) -> tuple[User, OptimizationPlan]:
    """The person and the plan a dry run showed `operator`; InvalidInput when the token is not one
    (altered, expired, or another operator's), NotFound when the person is not theirs to act for."""
    try:
        data = signing.loads(token, salt=PLAN_SALT, max_age=PLAN_MAX_AGE)
    except signing.BadSignature as exc:  # SignatureExpired is one too
        raise InvalidInput("this plan has expired or is not valid; run the dry run again") from exc
    if data.get("by") != operator.pk:
        raise InvalidInput("this plan was made for another operator; run the dry run again")
    owner = person_named(operator, data["user"])
    merges = [
        MemoryMerge(ids, memory, topics, sources=sources) for ids, memory, topics, sources in data["merges"]
    ]
    plan = OptimizationPlan(
        user_id=owner.get_username(),
        merges=merges,
        applied=False,
        strategy=data["strategy"],
        memories_read=data["read"],
    )
    return owner, plan
