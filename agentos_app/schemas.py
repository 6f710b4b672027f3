"""AgentOS 3.1's request and response bodies, by its names. A body refuses a field it does not know
(422), as every body of /api/ does; a run's form takes the fields AgentOS's clients send."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict

from agentapp.api_types import Id, InputSchema, NonBlankText, Search, Text, UserId


class RunForm(Schema):
    """POST /agents/{id}/runs is a form, as AgentOS takes it (agent-ui sends `session_id` empty for a
    new chat)."""

    model_config = ConfigDict(extra="forbid")

    message: NonBlankText
    stream: bool = True
    session_id: Text | None = None
    user_id: Text | None = None


class SessionCreateIn(InputSchema):
    session_id: Id | None = None
    session_name: Text | None = None
    session_state: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    user_id: UserId | None = None
    agent_id: Id | None = None
    team_id: Id | None = None
    workflow_id: Id | None = None


class SessionRenameIn(InputSchema):
    session_name: Text


class SessionUpdateIn(InputSchema):
    session_name: Text | None = None
    session_state: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None


class DeleteSessionsIn(InputSchema):
    session_ids: list[Id] = Field(..., min_length=1, max_length=100)
    session_types: list[Literal["agent", "team", "workflow"]] = Field(..., min_length=1, max_length=100)


class MemoryIn(InputSchema):
    memory: NonBlankText
    user_id: UserId | None = None
    topics: list[Text] | None = None


class DeleteMemoriesIn(InputSchema):
    memory_ids: list[Id] = Field(..., min_length=1, max_length=100)
    user_id: UserId | None = None


class OptimizeMemoriesIn(InputSchema):
    user_id: UserId
    model: Text | None = None
    apply: bool = True


class HealthOut(Schema):
    status: str
    instantiated_at: datetime


class ModelOut(Schema):
    id: str | None = None
    provider: str | None = None
    name: str | None = None
    model: str | None = None


class AgentOut(Schema):
    id: str
    name: str
    description: str
    db_id: str
    model: ModelOut


class AgentDetailOut(AgentOut):
    sessions: dict[str, Any]
    memory: dict[str, Any]
    streaming: dict[str, Any]


class ConfigOut(Schema):
    os_id: str
    name: str
    description: str
    os_database: str
    databases: list[str]
    available_models: list[ModelOut]
    agents: list[AgentOut]
    teams: list[dict[str, Any]]
    workflows: list[dict[str, Any]]
    interfaces: list[dict[str, Any]]


class MetaOut(Schema):
    page: int
    limit: int
    total_pages: int
    total_count: int


class SessionOut(Schema):
    session_id: str
    session_name: str
    session_state: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    session_type: str
    user_id: str
    agent_id: str


class SessionPageOut(Schema):
    data: list[SessionOut]
    meta: MetaOut


class ChatMessageOut(Schema):
    role: str
    content: str
    tool_calls: list[Any] | None


class SessionDetailOut(Schema):
    user_id: str
    agent_session_id: str
    session_id: str
    session_name: str
    session_summary: dict[str, Any] | None
    session_state: dict[str, Any] | None
    agent_id: str
    total_tokens: int
    metrics: dict[str, Any]
    chat_history: list[ChatMessageOut]
    created_at: datetime
    updated_at: datetime


class RunMetricsOut(Schema):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class RunOut(Schema):
    run_id: str
    parent_run_id: str | None
    agent_id: str
    user_id: str
    session_id: str
    status: str
    run_input: str
    content: str
    run_response_format: str
    metrics: RunMetricsOut
    created_at: int = Field(..., description="epoch seconds")


class RunPreviewOut(Schema):
    run_id: str
    parent_run_id: str | None
    agent_id: str
    user_id: str
    status: str
    run_input: str = Field(..., description="the first 280 characters")
    content_preview: str = Field(..., description="the first 280 characters")
    created_at: int = Field(..., description="epoch seconds")


class RunOutputOut(Schema):
    run_id: str
    agent_id: str
    agent_name: str
    session_id: str
    user_id: str
    content: str
    content_type: str
    model: str
    model_provider: str
    status: str
    metrics: RunMetricsOut
    input: dict[str, str]
    created_at: int = Field(..., description="epoch seconds")


class MemoryOut(Schema):
    memory_id: str
    memory: str
    topics: list[str]
    agent_id: str | None
    team_id: str | None
    user_id: str
    updated_at: datetime


class MemoryPageOut(Schema):
    data: list[MemoryOut]
    meta: MetaOut


class UserStatsOut(Schema):
    user_id: str
    total_memories: int
    last_memory_updated_at: datetime | None


class UserStatsPageOut(Schema):
    data: list[UserStatsOut]
    meta: MetaOut


class OptimizeMemoriesOut(Schema):
    memories: list[MemoryOut]
    memories_before: int
    memories_after: int
    tokens_before: int
    tokens_after: int
    tokens_saved: int
    reduction_percentage: float


class OsErrorOut(Schema):
    """AgentOS's error shape: `detail`, a sentence (a list of problems for a 422)."""

    detail: str | list[dict[str, Any]]
    error_code: str | None = None


# --- query parameters, by AgentOS's names (`db_id` and `table` are taken and ignored: one database)
SessionType = Literal["agent", "team", "workflow"]


class SessionFilters(Schema):
    type: SessionType = "agent"
    component_id: Id | None = None
    user_id: UserId | None = None
    session_name: Search | None = None
    limit: int = Field(20, ge=1, le=100)
    page: int = Field(1, ge=1, le=100_000)
    sort_by: Literal["created_at", "updated_at", "session_name"] = "created_at"
    sort_order: Literal["asc", "desc"] = "desc"
    db_id: Id | None = None
    table: Id | None = None


class SessionScope(Schema):
    type: SessionType | None = None
    user_id: UserId | None = None
    db_id: Id | None = None
    table: Id | None = None


RunStatus = Literal["PENDING", "RUNNING", "COMPLETED", "ERROR", "CANCELLED", "PAUSED"]


class RunFilters(SessionScope):
    """A session's runs: created after or before an epoch second, in any of the statuses named
    (AgentOS's, in any case)."""

    created_after: int | None = Field(None, ge=0, le=2**40)
    created_before: int | None = Field(None, ge=0, le=2**40)
    status: list[Annotated[RunStatus, BeforeValidator(lambda value: str(value).upper())]] = Field(
        default_factory=list, max_length=6
    )


class MemoryFilters(Schema):
    user_id: UserId | None = None
    agent_id: Id | None = None
    team_id: Id | None = None
    topics: list[Search] = Field(default_factory=list, max_length=20)
    search_content: Search | None = None
    limit: int = Field(20, ge=1, le=100)
    page: int = Field(1, ge=1, le=100_000)
    sort_by: Literal["created_at", "updated_at", "memory_id"] = "updated_at"
    sort_order: Literal["asc", "desc"] = "desc"
    db_id: Id | None = None
    table: Id | None = None


class MemoryScope(Schema):
    user_id: UserId | None = None
    db_id: Id | None = None
    table: Id | None = None


class StatsFilters(Schema):
    user_id: UserId | None = None
    limit: int = Field(20, ge=1, le=100)
    page: int = Field(1, ge=1, le=100_000)
    db_id: Id | None = None
    table: Id | None = None
