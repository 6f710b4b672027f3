from __future__ import annotations

from django.apps import AppConfig


class AgentAppConfig(AppConfig):
    """The project package as an app: its system checks and management commands."""

    name = "agentapp"
    verbose_name = "Agent app"

    def ready(self) -> None:
        from memory_app.signals import memory_text_changed

        from . import checks  # noqa: F401 - registers the checks
        from .memory_embedding import memories_written

        memory_text_changed.connect(memories_written, dispatch_uid="agentapp.memory_embedding")
