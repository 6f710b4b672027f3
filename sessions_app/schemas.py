"""In/Out schemas of the runs and sessions API. Each lists its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, model_validator

from agentapp.api_types import Id, InputSchema, NonBlankText, Search, SessionId, Text, UserId

from .selectors import run_feedback_get
from .services import FEEDBACK_COMMENT_CHARS, MAX_MESSAGE_CHARS

SessionSort = Literal["updated_at", "-updated_at", "created_at", "-created_at", "title", "-title"]


class RunIn(InputSchema):
    """One turn: `message`; or a new version of an earlier turn: `regenerate_run_id` alone, or
    `edit_run_id` with `message` (a version stays in its chat: no `temporary`). Each field is absent
    or a value, never null."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["message"],
                    "not": {
                        "anyOf": [
                            {"required": ["regenerate_run_id"]},
                            {"required": ["edit_run_id", "temporary"]},
                        ]
                    },
                },
                {
                    "required": ["regenerate_run_id"],
                    "not": {
                        "anyOf": [
                            {"required": ["message"]},
                            {"required": ["edit_run_id"]},
                            {"required": ["temporary"]},
                        ]
                    },
                },
            ]
        }
    )

    message: NonBlankText = Field(
        None,  # type: ignore[assignment]  # absent, never null
        max_length=MAX_MESSAGE_CHARS,
        description="The person's message; required, except with `regenerate_run_id` (which reuses "
        "the run's).",
    )
    session_id: SessionId | None = Field(
        None, description="A thread id (letters and digits, then also . _ : @ + -); omitted: a new session."
    )
    user_id: UserId | None = Field(None, description="Whom the run is for; omitted: the caller.")
    stream: bool = Field(False, description="Answer with a server-sent event stream instead of JSON.")
    regenerate_run_id: Id = Field(
        None,  # type: ignore[assignment]  # absent, never null
        description="Ask again for this finished run's answer: a new version of its turn, with the same "
        "message, shown from now on. The run and the turns after it stay, as another version.",
    )
    edit_run_id: Id = Field(
        None,  # type: ignore[assignment]  # absent, never null
        description="Send `message` in place of this finished run's message: a new version of its turn, "
        "as with regenerate_run_id.",
    )
    temporary: bool = Field(
        None,  # type: ignore[assignment]  # absent, never null
        description="true: a temporary chat (no memories read or written, listed nowhere, no summary or "
        "title, deleted after AGENT_TEMPORARY_CHAT_DAYS days), set when its session begins; false: an "
        "ordinary chat. Naming an existing session of the other kind is refused (422): a chat never "
        "changes its kind. Absent: a new session is ordinary, an existing one keeps its kind.",
    )
    remember: bool = Field(
        True,
        description='false: "don\'t remember this": nothing is learned from this turn (no memory tool '
        "writes, no automatic memory update). A new version of a turn not remembered is not remembered "
        "either.",
    )

    @model_validator(mode="after")
    def _one_kind_of_run(self) -> RunIn:
        if self.regenerate_run_id and self.edit_run_id:
            raise ValueError("give regenerate_run_id or edit_run_id, not both")
        if self.regenerate_run_id and self.message is not None:
            raise ValueError("regenerate_run_id asks again with the run's own message: leave message out")
        if not self.regenerate_run_id and self.message is None:
            raise ValueError("message is required")
        if (self.regenerate_run_id or self.edit_run_id) and self.temporary is not None:
            raise ValueError("a new version stays in its turn's chat, of its kind: leave temporary out")
        return self


class RunOut(Schema):
    run_id: str
    session_id: str
    user_id: str
    parent_run_id: str | None = Field(
        None,
        description="The run this one follows in its thread (null: the first turn); runs with one parent "
        "are versions of one turn.",
    )
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
    remember: bool = Field(
        True,
        description="false: nothing is learned from this run (sent with `remember: false`, or forgotten "
        "since with POST /api/runs/{run_id}/forget).",
    )
    temporary: bool = Field(False, description="Whether the run is in a temporary chat.")
    created_at: datetime
    started_at: datetime | None
    first_token_at: datetime | None
    ended_at: datetime | None
    duration_ms: int | None

    @staticmethod
    def resolve_session_id(obj: Any) -> str:
        return obj.session.session_id

    @staticmethod
    def resolve_temporary(obj: Any) -> bool:
        return bool(obj.session.temporary)

    @staticmethod
    def resolve_parent_run_id(obj: Any) -> str | None:
        return obj.parent.run_id if obj.parent_id else None

    @staticmethod
    def resolve_user_id(obj: Any) -> str:
        return obj.user.get_username()


class FeedbackIn(InputSchema):
    """Thumbs up or down on the run's reply, with an optional comment. Giving it again replaces it."""

    rating: Literal["up", "down"]
    comment: Text = Field(
        None,  # type: ignore[assignment]  # absent, never null
        max_length=FEEDBACK_COMMENT_CHARS,
        description="Why, in the person's words; omitted: the comment given before stays; empty: none.",
    )


class FeedbackOut(Schema):
    run_id: str
    user_id: str = Field(description="Whose feedback it is: the run's person, whoever relayed it.")
    rating: Literal["up", "down"]
    comment: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_run_id(obj: Any) -> str:
        return obj.run.run_id

    @staticmethod
    def resolve_user_id(obj: Any) -> str:
        return obj.user.get_username()


class RunForgetOut(Schema):
    """What forgetting a run (or undoing that) did."""

    run_id: str
    remember: bool = Field(description="false once forgotten; true again once the forget is undone.")
    memories: int = Field(
        description="Forget: how many memories learned from the run were deleted, or corrected back to "
        "what they said before it. Unforget: how many came back."
    )
    proposals_discarded: int = Field(
        0, description="Forget: the memories it proposed for review, still waiting, now discarded."
    )


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
    version: int = Field(1, description="Which version of its turn this run is, from 1 (the oldest).")
    versions: list[str] = Field(
        default_factory=list,
        description="The run ids of every version of its turn, oldest first (this one too).",
    )
    sent_by: str | None = Field(
        None, description="who started the run when not its owner (an operator, a service key's account)"
    )
    feedback: FeedbackOut | None = Field(
        None, description="What the run's person thought of the reply (thumbs up or down), if they said."
    )

    @staticmethod
    def resolve_sent_by(obj: Any) -> str | None:
        return obj.acting_user.get_username() if obj.acting_user_id else None

    @staticmethod
    def resolve_feedback(obj: Any) -> Any:
        return run_feedback_get(run=obj)


class SessionOut(Schema):
    session_id: str
    user_id: str
    title: str
    agent_name: str
    temporary: bool = Field(
        description="A temporary chat: no memories, no summary or title, listed only when asked "
        "(`temporary=true`), deleted AGENT_TEMPORARY_CHAT_DAYS days after it began."
    )
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
    temporary: bool = Field(
        False, description="true: the temporary chats (listed only so) instead of the ordinary ones."
    )


class SessionExportFilters(Schema):
    format: Literal["json", "markdown"] = Field(
        "json",
        description="json: the session as the person's full export gives it (every version of every "
        "turn, with messages, events and feedback); markdown: the thread the chat shows, as text.",
    )


class SessionExportOut(Schema):
    session_id: str
    title: str
    agent_name: str | None
    session_state: Any
    temporary: bool
    # ISO 8601 strings, as in the person's full export
    deleted_after: str | None
    created_at: str | None
    updated_at: str | None
    summary: dict[str, Any] | None
    runs: list[dict[str, Any]]


class SummaryOut(Schema):
    session_id: str
    text: str
    topics: list[str]
    last_run_id: str | None
    updated_at: datetime | None


class SummaryRefreshOut(Schema):
    session_id: str
    status: Literal["enqueued", "updated"]
