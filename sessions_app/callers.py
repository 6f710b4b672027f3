"""Who a run asked for over an API is for: the one owner of that rule, for `/api/runs` and AgentOS's
`/os/agents/{id}/runs`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from agentapp import app_agent
from agentapp.agent import Agent
from agentapp.ownership import acting_user, acts_for_others, caller

from .ratelimit import run_rate_limit_check
from .services import normalize_user_id


def run_caller(request: HttpRequest, user_id: str | None) -> tuple[str, Agent]:
    """The username the run is for, counted against their run limit, and the agent (whose first
    build in a process asks the database whether pgvector is there): one thread hop for all.

    A person a service key names for the first time is created with their first run, in the same
    transaction as its session, so a run that is refused leaves no one behind.
    """
    agent = app_agent.agent(acting_user=caller(request))
    if user_id and acts_for_others(caller(request)):
        username = normalize_user_id(user_id)
        if not get_user_model().objects.filter(username=username).exists():
            return username, agent
    user = acting_user(request, user_id)
    run_rate_limit_check(user=user)
    return user.get_username(), agent
