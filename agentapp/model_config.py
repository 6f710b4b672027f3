"""The app's configured model, from settings (AGENT_MODEL, OPENAI_API_KEY, OPENAI_BASE_URL)."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from agentapp.llm.factory import model_from_spec
from agentapp.llm.types import Model


@cache
def configured_model() -> Model:
    return model_from_spec(
        settings.AGENT_MODEL,
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        timeout=settings.AGENT_MODEL_TIMEOUT,
    )
