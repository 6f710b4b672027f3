from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import AgentSession, Message, Run, RunEvent, SessionSummary
from .summary_admin import SessionSummaryAdminExtras, SessionSummaryAdminMixin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.display(description="timeline")
def run_timeline_link(run: Run) -> str:
    if not run.pk:
        return ""
    return format_html('<a href="{}">timeline</a>', reverse("runs:detail", args=[run.run_id]))


class RunInline(ReadOnlyInline):
    model = Run
    fields = ("run_id", "status", "input", "model_id", "total_tokens", "created_at", "timeline")
    readonly_fields = fields
    ordering = ("-id",)

    @admin.display(description="timeline")
    def timeline(self, obj: Run) -> str:
        return run_timeline_link(obj)


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("position", "role", "content", "tool_calls", "tool_call_id", "from_history")
    readonly_fields = fields


class RunEventInline(ReadOnlyInline):
    model = RunEvent
    fields = ("kind", "name", "started_at", "ended_at", "input_tokens", "output_tokens")
    readonly_fields = fields


@admin.register(AgentSession)
class AgentSessionAdmin(SessionSummaryAdminMixin, admin.ModelAdmin):
    list_display = ("session_id", "title", "user", "agent_name", "created_at", "updated_at")
    list_filter = ("agent_name", "created_at", "updated_at")
    search_fields = ("session_id", "title", "user__username")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "updated_at", "summary_panel")
    date_hierarchy = "created_at"
    inlines = [RunInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Runs and events are a record of what happened: operators read them, never edit them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = (
        "run_id",
        "status",
        "user",
        "acting_user",
        "session",
        "model_id",
        "total_tokens",
        "created_at",
        run_timeline_link,
    )
    readonly_fields = ("timeline",)

    @admin.display(description="timeline")
    def timeline(self, obj: Run) -> str:
        return run_timeline_link(obj)

    list_filter = ("status", "model_provider", "model_id", "created_at")
    search_fields = ("run_id", "input", "content", "error", "user__username", "session__session_id")
    list_select_related = ("user", "acting_user", "session")
    date_hierarchy = "created_at"
    inlines = [MessageInline, RunEventInline]


@admin.register(RunEvent)
class RunEventAdmin(ReadOnlyAdmin):
    list_display = ("run", "kind", "name", "started_at", "ended_at", "input_tokens", "output_tokens")
    list_filter = ("kind", "started_at")
    search_fields = ("run__run_id", "name")
    list_select_related = ("run",)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("run", "position", "role", "short_content", "from_history", "created_at")
    list_filter = ("role", "from_history", "created_at")
    search_fields = ("content", "run__run_id", "session__session_id")
    list_select_related = ("run",)

    @admin.display(description="content")
    def short_content(self, obj: Message) -> str:
        return obj.content[:80]


@admin.register(SessionSummary)
class SessionSummaryAdmin(SessionSummaryAdminExtras, admin.ModelAdmin):
    list_display = ("session", "topic_list", "last_run", "updated_at")
    list_select_related = ("session", "last_run")
    search_fields = ("session__session_id", "text")
    readonly_fields = ("last_run", "created_at", "updated_at", "recompute")
    raw_id_fields = ("session",)
