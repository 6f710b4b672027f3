from __future__ import annotations

from django.http import HttpRequest

from .app_agent import configured_model


def model_info(request: HttpRequest) -> dict[str, object]:
    model = configured_model()
    return {
        "agent_model": model,
        "agent_model_is_demo": getattr(model, "is_offline_demo", False),
    }
