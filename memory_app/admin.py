from __future__ import annotations

from django.contrib import admin

from .models import Memory, MemoryChange


class MemoryChangeInline(admin.TabularInline):
    model = MemoryChange
    fk_name = "memory"
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "actor", "actor_user", "run", "before", "after")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    list_display = ("memory_id", "user", "text", "topics", "updated_at", "deleted_at")
    list_filter = ("deleted_at", "updated_at", "created_at")
    search_fields = ("memory_id", "text", "user__username")
    list_select_related = ("user",)
    readonly_fields = (
        "memory_id",
        "user",
        "text",
        "topics",
        "source_run",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    inlines = [MemoryChangeInline]

    # Edits go through the memory editor, whose services record who changed what.
    def has_add_permission(self, request) -> bool:
        return False


@admin.register(MemoryChange)
class MemoryChangeAdmin(admin.ModelAdmin):
    list_display = ("memory", "user", "action", "actor", "actor_user", "run", "created_at")
    list_filter = ("action", "actor", "created_at")
    search_fields = ("memory__memory_id", "user__username", "memory__text")
    list_select_related = ("memory", "user", "actor_user", "run")
    readonly_fields = (
        "memory",
        "user",
        "action",
        "actor",
        "actor_user",
        "run",
        "before",
        "after",
        "created_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
