"""What the AgentOS routes share: the one agent's facts, whom a request names, AgentOS's pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from agentapp import app_agent
from agentapp.errors import NotFound
from agentapp.ownership import acting_user
from agentos_app import shapes
from agentos_app.schemas import OsErrorOut
from memory_app.models import MemoryChange

API = MemoryChange.Actor.API
ERRORS: dict[int, Any] = {code: OsErrorOut for code in (400, 401, 404, 413, 415, 422)}


def agent_facts() -> dict[str, str]:
    """The app's agent as AgentOS describes an agent (built from settings: cheap)."""
    agent = app_agent.agent()
    return {
        "agent_id": agent.settings.id,
        "name": agent.settings.name,
        "model_id": agent.model.id,
        "provider": agent.model.provider,
    }


def agent_id() -> str:
    return app_agent.agent().settings.id


def check_agent(wanted: str) -> None:
    """Only the app's agent is served: any other id is not found."""
    if wanted != agent_id():
        raise NotFound(f"agent {wanted!r} not found: this server has one agent, {agent_id()!r}")


def named_person(request: HttpRequest, user_id: str | None) -> User | None:
    """The person named (whom the caller must be allowed to act for), or None: all the caller may see."""
    return acting_user(request, user_id) if user_id else None


def page_of(items: QuerySet[Any], *, page: int, limit: int) -> tuple[list[Any], dict[str, int]]:
    total = items.count()
    start = (page - 1) * limit
    return list(items[start : start + limit]), shapes.page_meta(page=page, limit=limit, total=total)
