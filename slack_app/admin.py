from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import SlackIdentity


@admin.register(SlackIdentity)
class SlackIdentityAdmin(admin.ModelAdmin):
    """The Slack people known here, and who each runs as (read-only: linking is the person's doing)."""

    list_display = ("team_id", "slack_user_id", "user", "linked_at", "created_at")
    list_filter = ("linked_at",)
    search_fields = ("team_id", "slack_user_id", "user__username")
    readonly_fields = ("team_id", "slack_user_id", "user", "account", "linked_at", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
