"""Operators' view of memories and their audit trail. Every write goes through the services as an operator."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.postgres.forms import SimpleArrayField
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from agentapp.agent import ModelError
from agentapp.agent.memory.optimization import OptimizationPlan
from agentapp.errors import AgentAppError, InvalidInput
from agentapp.http import signed_in
from agentapp.ownership import person_named

from . import optimization, selectors, services
from .models import Memory, MemoryChange, MemoryExtraction, MemoryProposal

OPERATOR = MemoryChange.Actor.OPERATOR


class TopicFilter(admin.SimpleListFilter):
    title = "topic"
    parameter_name = "topic"
    memory_path = ""  # how to reach the Memory from the listed model ("" for Memory itself)

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        counts: Counter[str] = Counter()
        recent = Memory.objects.filter(deleted_at__isnull=True).order_by("-updated_at")[:5_000]
        for topics in recent.values_list("topics", flat=True):
            counts.update(t for t in topics or () if isinstance(t, str))
        return [(name, f"{name} ({count})") for name, count in counts.most_common(30)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        memories = selectors.memories_filter_topic(Memory.objects.all(), self.value() or "")
        if not self.memory_path:
            return queryset.filter(pk__in=memories.values("pk"))
        return queryset.filter(**{f"{self.memory_path}__in": memories.values("pk")})


class ChangeTopicFilter(TopicFilter):
    memory_path = "memory"


class DeletedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("active", "Active"), ("deleted", "Deleted")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "active":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class ValidityFilter(admin.SimpleListFilter):
    """Current facts, or past ones (closed: replaced by another, or no longer true)."""

    title = "validity"
    parameter_name = "validity"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("current", "Current"), ("past", "Past (superseded or expired)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "current":
            return queryset.filter(valid_to__isnull=True)
        if self.value() == "past":
            return queryset.filter(valid_to__isnull=False)
        return queryset


class TopicsField(SimpleArrayField):
    """Topics as "food, drinks" rather than the JSON list they are stored as; blanks are skipped."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = ",".join(part for part in value.split(",") if part.strip())
        return super().to_python(value)


class MemoryAdminForm(forms.ModelForm):
    topics = TopicsField(
        forms.CharField(),
        delimiter=",",
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Comma separated, e.g. food, drinks",
    )

    class Meta:
        model = Memory
        fields = ("user", "text", "topics")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topics = self.initial.get("topics")
        if isinstance(topics, list):
            self.initial["topics"] = ", ".join(str(t) for t in topics)

    def clean_text(self) -> str:
        try:
            return services.clean_text(self.cleaned_data.get("text"))
        except AgentAppError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_topics(self) -> list[str]:
        try:
            return services.clean_topics(self.cleaned_data.get("topics") or [])
        except AgentAppError as exc:
            raise forms.ValidationError(exc.message) from exc


class MemoryChangeInline(admin.TabularInline):
    model = MemoryChange
    fk_name = "memory"
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "actor", "actor_user", "run", "before", "after", "reverts", "merge")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    form = MemoryAdminForm
    list_display = (
        "memory_id",
        "user",
        "text",
        "topics",
        "valid_from",
        "valid_to",
        "superseded_by",
        "updated_at",
        "deleted_at",
    )
    list_filter = (
        ("user", admin.RelatedOnlyFieldListFilter),
        TopicFilter,
        ValidityFilter,
        DeletedFilter,
        "updated_at",
        "created_at",
    )
    search_fields = ("memory_id", "text", "user__username")
    list_select_related = ("user", "superseded_by")
    date_hierarchy = "updated_at"
    inlines = [MemoryChangeInline]
    actions = ["restore_selected", "expire_selected", "optimize_memories"]

    def get_inlines(self, request: HttpRequest, obj: Memory | None) -> list[Any]:
        return list(self.inlines) if obj is not None else []  # a memory being added has no history yet

    # When the fact was true and what replaced it: shown, changed only through the services (supersede,
    # expire, and their reverts on the changes below).
    VALIDITY = ("valid_from", "valid_to", "superseded_by", "replaced")

    def get_readonly_fields(self, request: HttpRequest, obj: Memory | None = None) -> tuple[str, ...]:
        shown = ("memory_id", "source_run", "created_at", "updated_at", "deleted_at", *self.VALIDITY)
        return ("user", *shown) if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Memory | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("user", "text", "topics")
        shown = ("source_run", "created_at", "updated_at", "deleted_at", *self.VALIDITY)
        return ("memory_id", "user", "text", "topics", *shown)

    @admin.display(description="replaced")
    def replaced(self, obj: Memory) -> str:
        """The memories this one superseded, oldest first."""
        earlier = obj.supersedes.order_by("valid_from", "pk").values_list("memory_id", flat=True)
        return ", ".join(earlier) or "-"

    # Writes go through the services, so an operator's edit leaves the same audit trail as anyone's.
    def save_model(self, request: HttpRequest, obj: Memory, form: forms.ModelForm, change: bool) -> None:
        if change:
            current = Memory.objects.get(pk=obj.pk)
            saved = services.memory_update(
                memory=current,
                text=obj.text,
                topics=obj.topics,
                actor=OPERATOR,
                actor_user=signed_in(request),
            )
        else:
            saved, created = services.memory_create(
                user_pk=obj.user_id,
                text=obj.text,
                topics=obj.topics,
                actor=OPERATOR,
                actor_user=signed_in(request),
            )
            if not created:
                messages.info(request, "An identical memory already existed; nothing new was stored.")
        obj.pk, obj.memory_id = saved.pk, saved.memory_id

    def delete_model(self, request: HttpRequest, obj: Memory) -> None:
        services.memory_delete(memory=obj, actor=OPERATOR, actor_user=signed_in(request))

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[list, dict, set, list]:
        # Deleting is soft: the audit trail stays, so the confirmation lists only the memories.
        objs = list(objs)
        return [str(o) for o in objs], {Memory._meta.verbose_name_plural: len(objs)}, set(), []

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Memory]) -> None:
        for memory in queryset:
            services.memory_delete(memory=memory, actor=OPERATOR, actor_user=signed_in(request))

    @admin.action(description="Restore selected memories")
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[Memory]) -> None:
        restored = 0
        for memory in queryset.filter(deleted_at__isnull=False):
            try:
                services.memory_restore(memory=memory, actor=OPERATOR, actor_user=signed_in(request))
                restored += 1
            except AgentAppError as exc:
                messages.warning(request, f"{memory.memory_id}: {exc.message}")
        messages.success(request, f"Restored {restored} memories.")

    @admin.action(description="Mark selected memories as no longer true", permissions=["change"])
    def expire_selected(self, request: HttpRequest, queryset: QuerySet[Memory]) -> None:
        expired = 0
        for memory in queryset.filter(deleted_at__isnull=True, valid_to__isnull=True):
            try:
                services.memory_expire(memory=memory, actor=OPERATOR, actor_user=signed_in(request))
                expired += 1
            except AgentAppError as exc:
                messages.warning(request, f"{memory.memory_id}: {exc.message}")
        messages.success(request, f"Marked {expired} memories as no longer true.")

    @admin.action(description="Merge duplicate memories (dry run first)", permissions=["change"])
    def optimize_memories(self, request: HttpRequest, queryset: QuerySet[Memory]) -> TemplateResponse | None:
        """For the one person whose memories are selected: all of their memories, through the
        model's plan shown first; Apply posts the signed plan back to this action."""
        operator = signed_in(request)
        owner_pks = set(queryset.values_list("user_id", flat=True))
        if len(owner_pks) != 1:
            messages.error(request, "Select memories of one person: their duplicates are merged.")
            return None
        try:
            if request.POST.get("apply") == "yes":
                owner, plan = optimization.plan_from_token(request.POST.get("plan", ""), operator=operator)
                if owner.pk not in owner_pks:
                    raise InvalidInput("this plan is for another person's memories")
                plan = optimization.memories_optimize_apply(plan=plan, acting_user=operator, actor=OPERATOR)
                self._report(request, plan)
                return None
            owner = person_named(operator, get_user_model().objects.get(pk=owner_pks.pop()).get_username())
            plan = optimization.memories_optimize(
                owner=owner, acting_user=operator, actor=OPERATOR, apply=False
            )
        except (AgentAppError, ModelError) as exc:
            messages.error(request, f"Nothing was merged: {exc.message}")
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Merge duplicate memories of {owner.get_username()}",
            "owner": owner,
            "plan": plan,
            "token": optimization.plan_token(plan, operator=operator),
            "selected": list(queryset.values_list("pk", flat=True)),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/memory_app/memory/optimize.html", context)

    def _report(self, request: HttpRequest, plan: OptimizationPlan) -> None:
        made = [merge for merge in plan.merges if merge.merged_id]
        merged = sum(len(merge.source_ids) for merge in made)
        messages.success(request, f"Merged {merged} memories of {plan.user_id} into {len(made)}.")
        for merge in plan.merges:
            if merge.error:
                messages.warning(request, f"Not merged into {merge.memory!r}: {merge.error}")


@admin.register(MemoryChange)
class MemoryChangeAdmin(admin.ModelAdmin):
    list_display = ("memory", "user", "action", "actor", "actor_user", "run", "created_at")
    list_filter = (
        ("user", admin.RelatedOnlyFieldListFilter),
        ChangeTopicFilter,
        "actor",
        "action",
        "created_at",
    )
    search_fields = ("memory__memory_id", "user__username", "memory__text")
    list_select_related = ("memory", "user", "actor_user", "run")
    date_hierarchy = "created_at"
    readonly_fields = (
        "memory",
        "user",
        "action",
        "actor",
        "actor_user",
        "run",
        "before",
        "after",
        "reverts",
        "merge",
        "created_at",
    )
    actions = ["revert_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the audit trail is append-only

    def has_revert_permission(self, request: HttpRequest) -> bool:
        """A revert rewrites the memory: it takes the permission to change memories."""
        return request.user.has_perm("memory_app.change_memory")

    @admin.action(description="Revert selected changes (as an operator)", permissions=["revert"])
    def revert_selected(self, request: HttpRequest, queryset: QuerySet[MemoryChange]) -> None:
        reverted = 0
        for change in queryset.select_related("memory").order_by("-created_at", "-id"):
            try:
                services.memory_revert(change=change, actor=OPERATOR, actor_user=signed_in(request))
                reverted += 1
            except AgentAppError as exc:
                messages.warning(request, f"change {change.pk}: {exc.message}")
        messages.success(request, f"Reverted {reverted} changes.")


@admin.register(MemoryExtraction)
class MemoryExtractionAdmin(admin.ModelAdmin):
    list_display = ("run", "state", "attempts", "claimed_at", "finished_at")
    list_filter = ("state", "claimed_at")
    search_fields = ("run__run_id",)
    list_select_related = ("run",)
    readonly_fields = ("run", "state", "attempts", "error", "claimed_at", "finished_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MemoryProposal)
class MemoryProposalAdmin(admin.ModelAdmin):
    """Memories proposed for people's review and what each person decided: read-only, since only the
    person (or an operator on /memories/?user=..., recorded as such) keeps or discards one."""

    list_display = (
        "proposal_id",
        "user",
        "short_text",
        "change",
        "state",
        "actor",
        "created_at",
        "decided_at",
    )
    list_filter = ("state", "change", "actor", "created_at")
    search_fields = ("proposal_id", "user__username", "text")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "proposal_id",
        "user",
        "text",
        "topics",
        "change",
        "target",
        "source_run",
        "actor",
        "state",
        "created_at",
        "decided_at",
        "kept_as",
    )

    @admin.display(description="text")
    def short_text(self, proposal: MemoryProposal) -> str:
        return proposal.text if len(proposal.text) <= 80 else proposal.text[:79] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the person's decisions are part of the audit trail
