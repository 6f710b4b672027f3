"""The app's own Agent (used by the chat, the API and the background tasks), configured from settings."""

from __future__ import annotations

from django.conf import settings

from agentapp.agent import Agent
from agentapp.db import DjangoDb
from agentapp.model_config import configured_model


def app_agent() -> Agent:
    return Agent(
        model=configured_model(),
        db=DjangoDb(),
        name="agent",
        instructions=settings.AGENT_INSTRUCTIONS or None,
        add_history_to_context=True,
        num_history_runs=settings.AGENT_NUM_HISTORY_RUNS,
        enable_agentic_memory=settings.AGENT_AGENTIC_MEMORY,
        update_memory_on_run=settings.AGENT_UPDATE_MEMORY_ON_RUN,
        enable_session_summaries=settings.AGENT_SESSION_SUMMARIES,
    )
