"""Who a run asked for over an API is for: the one owner of that rule, for `/api/runs` and AgentOS's
`/os/agents/{id}/runs`."""

from __future__ import annotations

from django.http import HttpRequest

from agentapp import app_agent
from agentapp.agent import Agent
from agentapp.ownership import caller, person_named_if_any

from .ratelimit import run_rate_limit_check
from .services import normalize_user_id


def run_caller(request: HttpRequest, user_id: str | None) -> tuple[str, Agent]:
    """The username the run is for, counted against their run limit, and the agent (whose first
    build in a process asks the database whether pgvector is there): one thread hop for all.

    A person a service key names for the first time is created with their first run, in the same
    transaction as its session, so a run that is refused leaves no one behind.
    """
    user = person_named_if_any(caller(request), user_id)
    agent = app_agent.agent(acting_user=caller(request), person=user)
    if user is None:  # an operator's new person: no runs to count yet
        return normalize_user_id(user_id or ""), agent
    run_rate_limit_check(user=user)
    return user.get_username(), agent
