from __future__ import annotations

from django.apps import AppConfig


class SlackConfig(AppConfig):
    name = "slack_app"
    verbose_name = "Slack"
    default_auto_field = "django.db.models.BigAutoField"
