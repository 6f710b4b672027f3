"""THE app's agent: the one the chat, the API and the background tasks use, configured from settings.

The only place outside the runtime that builds a model.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from agentapp.agent import Agent
from agentapp.db import DjangoDb
from agentapp.llm.factory import model_from_spec
from agentapp.llm.types import Model


@cache
def configured_model() -> Model:
    """The model named by AGENT_MODEL (with OPENAI_API_KEY / OPENAI_BASE_URL), built once per process."""
    return model_from_spec(
        settings.AGENT_MODEL,
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        timeout=settings.AGENT_MODEL_TIMEOUT,
    )


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
