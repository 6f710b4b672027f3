from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .models import AgentSession, Message, PersonSettings, Run, RunEvent, RunFeedback, SessionSummary
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
    list_display = (
        "session_id",
        "title",
        "user",
        "agent_name",
        "temporary",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    # deleted_at: deleted by its person, who may still undo it (the sweep deletes it for good).
    list_filter = ("temporary", "agent_name", "created_at", "updated_at", "deleted_at")
    search_fields = ("session_id", "title", "user__username")
    raw_id_fields = ("user",)
    # A chat's kind is set when it begins and never changes (docs/controls.md, "Temporary chats").
    readonly_fields = ("temporary", "created_at", "updated_at", "deleted_at", "summary_panel")
    date_hierarchy = "created_at"
    inlines = [RunInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Runs and events are a record of what happened: operators read them, never edit them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RunFeedbackFilter(admin.SimpleListFilter):
    """Runs by what their person thought of the reply: thumbs up, thumbs down, or nothing said."""

    title = "feedback"
    parameter_name = "feedback"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("up", "Thumbs up"), ("down", "Thumbs down"), ("none", "None")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Run]) -> QuerySet[Run]:
        value = self.value()
        if value in ("up", "down"):
            return queryset.filter(Exists(RunFeedback.objects.filter(run=OuterRef("pk"), rating=value)))
        if value == "none":
            return queryset.filter(~Exists(RunFeedback.objects.filter(run=OuterRef("pk"))))
        return queryset


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

    list_filter = ("status", "model_provider", "model_id", "created_at", RunFeedbackFilter)
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


@admin.register(PersonSettings)
class PersonSettingsAdmin(ReadOnlyAdmin):
    """What each person chose (their /settings/ page): operators see it; the choice stays theirs.

    A person without a row has the operator's defaults (AGENT_DEFAULT_* settings)."""

    list_display = (
        "user",
        "use_memories",
        "learn_memories",
        "review_memories",
        "has_instructions",
        "updated_at",
    )
    list_filter = ("use_memories", "learn_memories", "review_memories", "updated_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = (
        "user",
        "about_you",
        "how_to_respond",
        "use_memories",
        "learn_memories",
        "review_memories",
        "updated_at",
    )

    @admin.display(description="custom instructions", boolean=True)
    def has_instructions(self, obj: PersonSettings) -> bool:
        return bool(obj.about_you or obj.how_to_respond)


@admin.register(RunFeedback)
class RunFeedbackAdmin(ReadOnlyAdmin):
    """What people thought of the replies (the chat's thumbs, the API's feedback): it is theirs, so
    operators read it and may delete it, never edit it."""

    list_display = ("run_link", "rating", "user", "short_comment", "created_at", "updated_at")
    list_filter = ("rating", "created_at", "updated_at")
    search_fields = ("user__username", "run__run_id", "comment")
    list_select_related = ("run", "user")
    date_hierarchy = "created_at"
    fields = ("run_link", "user", "rating", "comment", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="run", ordering="run__run_id")
    def run_link(self, obj: RunFeedback) -> str:
        url = reverse("runs:detail", args=[obj.run.run_id])
        return format_html('<a href="{}">{}</a>', url, obj.run.run_id)

    @admin.display(description="comment")
    def short_comment(self, obj: RunFeedback) -> str:
        return obj.comment if len(obj.comment) <= 80 else f"{obj.comment[:79]}…"
