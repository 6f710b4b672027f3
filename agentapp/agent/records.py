"""Plain records the agent reads from and hands to its storage. No Django here.

The model's own vocabulary (Message, ToolCall, Usage) is re-exported for storages, which speak
the runtime's language and never import the model adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentapp.llm.types import Message, ToolCall, Usage

__all__ = [
    "ContextData",
    "EventRecord",
    "Message",
    "RunHandle",
    "RunRecord",
    "SessionMetrics",
    "SessionRecord",
    "SessionSummaryRecord",
    "SummaryInputs",
    "SummaryTurn",
    "ToolCall",
    "Usage",
    "UserMemory",
]


@dataclass(frozen=True)
class UserMemory:
    memory_id: str
    memory: str
    topics: list[str]
    user_id: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    source_run_id: str | None = None


@dataclass(frozen=True)
class SessionSummaryRecord:
    session_id: str
    summary: str
    topics: list[str]
    last_run_id: str | None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    user_id: str
    agent_name: str
    title: str
    session_state: dict[str, Any]
    created_at: datetime | None = None
    updated_at: datetime | None = None
    runs: list[RunRecord] = field(default_factory=list)  # filled by Agent.get_session


@dataclass(frozen=True)
class RunRecord:
    """A stored run of a session: what was asked, what came back, its messages and its cost."""

    run_id: str
    session_id: str
    user_id: str
    status: str
    input: str
    content: str
    error: str = ""
    model: str = ""
    model_provider: str = ""
    created_at: datetime | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True)
class SessionMetrics:
    """A session's totals over its runs."""

    runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0


@dataclass(frozen=True)
class RunHandle:
    """What the storage returns when a run starts: enough to write to it without re-reading.

    A storage may return a subclass carrying its own keys (DjangoDb: the rows' primary keys), so
    that later writes need no lookups.
    """

    run_id: str
    session_id: str
    user_id: str
    input: str
    session_has_title: bool = True  # an untitled session gets a title after its first reply
    session_state: dict[str, Any] = field(default_factory=dict)  # as stored when the run began


@dataclass(frozen=True)
class EventRecord:
    """One entry of a run's timeline: a model request, tool call, memory write, summary or error."""

    kind: str
    name: str
    started_at: datetime
    ended_at: datetime | None
    input_tokens: int = 0
    output_tokens: int = 0
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ContextData:
    history: list[Message]
    memories: list[UserMemory]
    summary: SessionSummaryRecord | None
    # How the memories were chosen, with each one's scores (an agent.recall.Recall, or None).
    recall: Any = None


@dataclass(frozen=True)
class SummaryTurn:
    """One completed run to fold into a summary: what the user said and the final reply, both truncated."""

    run: RunHandle
    input: str
    content: str


@dataclass(frozen=True)
class SummaryInputs:
    summary: SessionSummaryRecord | None
    turns: list[SummaryTurn]
    more: bool  # runs past this batch are waiting too
