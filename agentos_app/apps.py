from __future__ import annotations

from django.apps import AppConfig


class AgentOSAppConfig(AppConfig):
    name = "agentos_app"
    verbose_name = "AgentOS-compatible API"
    default_auto_field = "django.db.models.BigAutoField"
