"""In/Out schemas of the memories API. Each lists its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, PlainSerializer, RootModel, WithJsonSchema

from agentapp.api_types import Id, InputSchema, NonBlankText, Search, Text, UserId

from .services import MAX_MEMORY_CHARS, MAX_TOPIC_CHARS, MAX_TOPICS

Topic = Text


def _instant(value: Any) -> Any:
    """An ISO 8601 date and time with its offset ("2026-03-01T09:00:00Z", "…+02:00"). Read by Python's
    own parser, not pydantic's looser one (which takes a bare number as a Unix time); one without an
    offset is refused rather than guessed at, as the services refuse it."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().upper())  # RFC 3339 allows "t" and "z"
        except ValueError:
            raise ValueError("must be an ISO 8601 date and time, e.g. 2026-03-01T09:00:00Z") from None
    else:
        raise ValueError("must be an ISO 8601 date and time (a string)")
    if moment.utcoffset() is None:
        raise ValueError("needs a time zone offset, e.g. 2026-03-01T09:00:00Z or …+02:00")
    return moment


Instant = Annotated[datetime, BeforeValidator(_instant)]
# A fact's dates to the microsecond, as stored (the API's other times are rounded to the millisecond):
# fed back as `as_of` or `valid_to`, a date read here means the very instant the fact began or ended.
ExactInstant = Annotated[
    datetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class MemoryOut(Schema):
    memory_id: str
    user_id: str
    text: str
    topics: list[str]
    source_run_id: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    valid_from: ExactInstant = Field(..., description="When the fact became true.")
    valid_to: ExactInstant | None = Field(..., description="When it stopped being true; null while current.")
    superseded_by: str | None = Field(..., description="The memory that replaced it, if one did.")
    supersedes: list[str] = Field(..., description="The memories it replaced, oldest first.")

    @staticmethod
    def resolve_user_id(obj: Any) -> str:
        return obj.user.get_username()

    @staticmethod
    def resolve_superseded_by(obj: Any) -> str | None:
        return obj.superseded_by.memory_id if obj.superseded_by_id else None

    @staticmethod
    def resolve_supersedes(obj: Any) -> list[str]:
        # From the list's prefetch when there is one; the deleted ones are gone, like any deleted memory.
        replaced = [m for m in obj.supersedes.all() if m.deleted_at is None]
        return [m.memory_id for m in sorted(replaced, key=lambda m: (m.valid_from, m.pk))]

    @staticmethod
    def resolve_source_run_id(obj: Any) -> str | None:
        return obj.source_run.run_id if obj.source_run_id else None


def _replacing_schema(schema: dict[str, Any]) -> None:
    # `replaces` and `valid_from` are absent or strings, never null; `valid_from` comes with `replaces`.
    for name in ("replaces", "valid_from"):
        schema["properties"][name].pop("default", None)
    schema["dependentRequired"] = {"valid_from": ["replaces"]}


class MemoryIn(InputSchema):
    # Unknown fields are refused (InputSchema): a misspelt `replaces` must not store a second,
    # contradicting fact.
    model_config = ConfigDict(json_schema_extra=_replacing_schema)

    text: NonBlankText = Field(..., max_length=MAX_MEMORY_CHARS)
    topics: list[Topic] = Field(
        default_factory=list,
        max_length=MAX_TOPICS,
        description="With `replaces` and omitted: the replaced memory's topics.",
    )
    user_id: UserId | None = Field(None, description="Whose memory; omitted: the caller.")
    replaces: Id = Field(
        None,  # type: ignore[assignment]  # absent: a plain create; the schema says a string
        description="A current memory of the same person whose fact this one changes: it is closed "
        "(superseded), not overwritten.",
    )
    valid_from: Instant = Field(
        None,  # type: ignore[assignment]
        description="With `replaces`: since when the new fact is true (default: now).",
    )


class MemoryExpireIn(InputSchema):
    valid_to: Instant | None = Field(None, description="Since when it is no longer true (default: now).")


class MemoryPatchIn(InputSchema):
    text: NonBlankText | None = Field(None, max_length=MAX_MEMORY_CHARS)
    topics: list[Topic] | None = Field(None, max_length=MAX_TOPICS)


class MemoryFilters(Schema):
    user_id: UserId | None = None
    topic: Search = Field("", max_length=MAX_TOPIC_CHARS)
    search: Search = ""
    # "hybrid": by meaning and words, fused, in relevance order; "words": by words alone.
    mode: Literal["hybrid", "words"] = "hybrid"
    as_of: Instant | None = Field(None, description="What was true at this instant (ISO 8601, with offset).")
    include_superseded: bool = Field(False, description="Past facts too (closed, or replaced).")
    state: Literal["proposed", "kept", "discarded"] | None = Field(
        None,
        description="Instead of the memories, the memories proposed for the person's review in this "
        "state (their settings ask for review): `proposed`, waiting, the newest first; `kept` or "
        "`discarded`, the most recently decided first. `search` and `topic` filter them too.",
    )


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


class MemoryProposalOut(Schema):
    """A memory the agent would keep, waiting for the person's review (or decided)."""

    proposal_id: str = Field(..., description="prop_…: what approve and reject take.")
    user_id: str
    text: str
    topics: list[str]
    change: Literal["create", "supersede", "update"] = Field(
        ...,
        description="What keeping it does: `create` a new memory, `supersede` the target (the old fact "
        "is kept as a past one), or `update` (correct) the target.",
    )
    target_memory_id: str | None = Field(..., description="The memory it would supersede or correct.")
    source_run_id: str | None = Field(..., description="The run that proposed it.")
    state: Literal["proposed", "kept", "discarded"]
    created_at: datetime
    decided_at: datetime | None
    kept_memory_id: str | None = Field(..., description="Once kept: the memory it became.")

    @staticmethod
    def resolve_user_id(obj: Any) -> str:
        return obj.user.get_username()

    @staticmethod
    def resolve_target_memory_id(obj: Any) -> str | None:
        return obj.target.memory_id if obj.target_id else None

    @staticmethod
    def resolve_source_run_id(obj: Any) -> str | None:
        return obj.source_run.run_id if obj.source_run_id else None

    @staticmethod
    def resolve_kept_memory_id(obj: Any) -> str | None:
        return obj.kept_as.memory_id if obj.kept_as_id else None


class MemoryListItem(RootModel[MemoryOut | MemoryProposalOut]):
    """One of the memories listed; with `state`, one of the memories proposed for review."""


class MemoryProposalApproveIn(InputSchema):
    """Optional edits before keeping: what is kept instead of the proposed text or topics."""

    text: NonBlankText | None = Field(None, max_length=MAX_MEMORY_CHARS)
    topics: list[Topic] | None = Field(None, max_length=MAX_TOPICS)


class TopicOut(Schema):
    topic: str
    count: int


class TopicFilters(Schema):
    user_id: UserId | None = None
