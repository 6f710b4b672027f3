"""Agno's storage vocabulary (`agno.db.base`): `SessionType`, and `BaseDb` / `AsyncBaseDb`, the type
every storage here has (`agentapp.db.DjangoDb`, `InMemoryDb`): one protocol serves sync and async
callers alike (the `a*` verbs are twins of the sync ones)."""

from __future__ import annotations

from enum import StrEnum

from .storage import AgentDb


class SessionType(StrEnum):
    """What a session belongs to. Only agents' sessions are kept here: asking for a team's or a
    workflow's finds none."""

    AGENT = "agent"
    TEAM = "team"
    WORKFLOW = "workflow"


def is_agent_session(session_type: SessionType | str | None) -> bool:
    """Whether a lookup by `session_type` may find this project's sessions (None: any type)."""
    return session_type is None or SessionType(session_type) is SessionType.AGENT


BaseDb = AgentDb
AsyncBaseDb = AgentDb

__all__ = ["AsyncBaseDb", "BaseDb", "SessionType", "is_agent_session"]
