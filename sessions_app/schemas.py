"""In/Out schemas of the runs and sessions API. Each lists its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from agentapp.api_types import InputSchema, NonBlankText, Search, SessionId, Text, UserId

from .services import MAX_MESSAGE_CHARS

SessionSort = Literal["updated_at", "-updated_at", "created_at", "-created_at", "title", "-title"]


class RunIn(InputSchema):
    message: NonBlankText = Field(..., max_length=MAX_MESSAGE_CHARS, description="The person's message.")
    session_id: SessionId | None = Field(
        None, description="A thread id (letters and digits, then also . _ : @ + -); omitted: a new session."
    )
    user_id: UserId | None = Field(None, description="Whom the run is for; omitted: the caller.")
    stream: bool = Field(False, description="Answer with a server-sent event stream instead of JSON.")


class RunOut(Schema):
    run_id: str
    session_id: str
    user_id: str
    status: str
    input: str
    content: str
    error: str
    model_id: str
    model_provider: str
    input_tokens: int
    output_tokens: int
    total_tokens: int
    memories_used: list[str]
    created_at: datetime
    started_at: datetime | None
    first_token_at: datetime | None
    ended_at: datetime | None
    duration_ms: int | None

    @staticmethod
    def resolve_session_id(obj: Any) -> str:
        return obj.session.session_id

    @staticmethod
    def resolve_user_id(obj: Any) -> str:
        return obj.user.get_username()


class RunEventOut(Schema):
    kind: str
    name: str
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int | None
    input_tokens: int
    output_tokens: int
    payload: dict[str, Any]


class RunDetailOut(RunOut):
    events: list[RunEventOut]
    sent_by: str | None = Field(
        None, description="who started the run when not its owner (an operator, a service key's account)"
    )

    @staticmethod
    def resolve_sent_by(obj: Any) -> str | None:
        return obj.acting_user.get_username() if obj.acting_user_id else None


class SessionOut(Schema):
    session_id: str
    user_id: str
    title: str
    agent_name: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_user_id(obj: Any) -> str:
        return obj.user.get_username()


class SessionDetailOut(SessionOut):
    session_state: dict[str, Any]


class SessionPatchIn(InputSchema):
    """Either or both: a new title, and a new session state (replacing the stored one)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    title: Text = Field(None, max_length=200)  # type: ignore[assignment]  # absent, never null
    session_state: dict[str, Any] = Field(
        None,  # type: ignore[arg-type]  # absent, never null
        description="A JSON object of at most 64 KiB; replaces the stored state.",
    )


class SessionFilters(Schema):
    user_id: UserId | None = None
    search: Search = ""
    sort: SessionSort = "-updated_at"


class SummaryOut(Schema):
    session_id: str
    text: str
    topics: list[str]
    last_run_id: str | None
    updated_at: datetime | None


class SummaryRefreshOut(Schema):
    session_id: str
    status: Literal["enqueued", "updated"]
