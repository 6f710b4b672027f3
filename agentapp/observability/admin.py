from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ProcessHeartbeat


@admin.register(ProcessHeartbeat)
class ProcessHeartbeatAdmin(admin.ModelAdmin):
    """What the processes wrote; the processes write it, nobody edits it."""

    list_display = ("name", "kind", "hostname", "pid", "started_at", "last_seen", "stopped_at")
    list_filter = ("kind",)
    search_fields = ("name", "hostname")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
