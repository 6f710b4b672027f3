"""In/Out schemas of the memories API. Each lists its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from agentapp.api_types import InputSchema, NonBlankText, Search, Text, UserId

from .services import MAX_MEMORY_CHARS, MAX_TOPIC_CHARS, MAX_TOPICS

Topic = Text


class MemoryOut(Schema):
    memory_id: str
    user_id: str
    text: str
    topics: list[str]
    source_run_id: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @staticmethod
    def resolve_user_id(obj: Any) -> str:
        return obj.user.get_username()

    @staticmethod
    def resolve_source_run_id(obj: Any) -> str | None:
        return obj.source_run.run_id if obj.source_run_id else None


class MemoryIn(InputSchema):
    text: NonBlankText = Field(..., max_length=MAX_MEMORY_CHARS)
    topics: list[Topic] = Field(default_factory=list, max_length=MAX_TOPICS)
    user_id: UserId | None = Field(None, description="Whose memory; omitted: the caller.")


class MemoryPatchIn(InputSchema):
    text: NonBlankText | None = Field(None, max_length=MAX_MEMORY_CHARS)
    topics: list[Topic] | None = Field(None, max_length=MAX_TOPICS)


class MemoryFilters(Schema):
    user_id: UserId | None = None
    topic: Search = Field("", max_length=MAX_TOPIC_CHARS)
    search: Search = ""
    # "hybrid": by meaning and words, fused, in relevance order; "words": by words alone.
    mode: Literal["hybrid", "words"] = "hybrid"


class MemoryChangeOut(Schema):
    change_id: int
    memory_id: str
    action: str
    actor: str
    actor_user_id: str | None
    run_id: str | None
    reverts_change_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime
    merged_into: str | None = None  # a memory merged away: the memory it became part of
    merged_from: list[str] = []  # a merge's new memory: the memories it replaced

    @staticmethod
    def resolve_change_id(obj: Any) -> int:
        return obj.pk

    @staticmethod
    def resolve_merged_into(obj: Any) -> str | None:
        return obj.merge.memory.memory_id if obj.merge_id else None

    @staticmethod
    def resolve_merged_from(obj: Any) -> list[str]:
        if obj.action != "merge" or obj.merge_id:
            return []
        return [part.memory.memory_id for part in obj.merged_sources.all()]

    @staticmethod
    def resolve_memory_id(obj: Any) -> str:
        return obj.memory.memory_id

    @staticmethod
    def resolve_actor_user_id(obj: Any) -> str | None:
        return obj.actor_user.get_username() if obj.actor_user_id else None

    @staticmethod
    def resolve_run_id(obj: Any) -> str | None:
        return obj.run.run_id if obj.run_id else None

    @staticmethod
    def resolve_reverts_change_id(obj: Any) -> int | None:
        return obj.reverts_id


class TopicOut(Schema):
    topic: str
    count: int


class TopicFilters(Schema):
    user_id: UserId | None = None
