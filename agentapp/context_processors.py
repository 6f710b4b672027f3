from __future__ import annotations

from django.http import HttpRequest

from . import app_agent


def model_info(request: HttpRequest) -> dict[str, object]:
    return {"agent_model": app_agent.configured_model(), "agent_model_is_demo": app_agent.is_offline_demo()}
