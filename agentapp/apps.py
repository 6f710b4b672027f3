from __future__ import annotations

from django.apps import AppConfig


class AgentAppConfig(AppConfig):
    """The project package as an app: its system checks and management commands."""

    name = "agentapp"
    verbose_name = "Agent app"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the checks
