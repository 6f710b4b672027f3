from __future__ import annotations

from django.http import HttpRequest

from . import app_agent
from .accounts.models import Theme
from .accounts.selectors import theme_for_user
from .observability.probes import recall_description


def model_info(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "agent_model": app_agent.configured_model(),
        "agent_model_is_demo": app_agent.is_offline_demo(),
        # Operators see how memories are recalled. Always set: a missing variable makes Django's
        # template engine log the whole context at DEBUG, secrets on the page included.
        "agent_recall": recall_description() if user is not None and user.is_staff else None,
    }


def appearance(request: HttpRequest) -> dict[str, object]:
    """The person's theme for <html data-theme>, and the choices the top menu offers."""
    user = getattr(request, "user", None)
    return {
        "user_theme": theme_for_user(user=user) if user is not None else Theme.SYSTEM,
        "theme_choices": Theme.choices,
    }
