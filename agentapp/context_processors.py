from __future__ import annotations

from django.http import HttpRequest

from . import app_agent


def model_info(request: HttpRequest) -> dict[str, object]:
    info: dict[str, object] = {
        "agent_model": app_agent.configured_model(),
        "agent_model_is_demo": app_agent.is_offline_demo(),
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:  # operators see how memories are recalled
        info["agent_recall"] = app_agent.recall_description()
    return info
