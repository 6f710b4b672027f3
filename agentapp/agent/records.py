"""Plain records the agent reads from and hands to its storage. No Django here.

The model's own vocabulary (Message, ToolCall, Usage) is re-exported for storages, which speak
the runtime's language and never import the model adapters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentapp.llm.types import Message, MessageMetrics, ToolCall, Usage

from .run_status import RunStatus

__all__ = [
    "DEFAULT_USER_ID",
    "ContextData",
    "EventRecord",
    "Message",
    "PausedRun",
    "PersonControls",
    "RunHandle",
    "RunRecord",
    "RunStatus",
    "SessionMetrics",
    "SessionSummary",
    "SessionSummaryRecord",
    "SummaryInputs",
    "SummaryTurn",
    "ToolCall",
    "Usage",
    "UserMemory",
]


DEFAULT_USER_ID = "default"  # whose runs and memories they are when nobody is named


def when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float):  # Agno's epoch seconds
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value))


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _message(data: dict[str, Any] | Message) -> Message:
    """A message of a stored run's dict (its `to_dict`, or Agno's)."""
    if isinstance(data, Message):
        return data
    calls = tuple(
        ToolCall(
            c.get("id", ""), c.get("name") or c.get("function", {}).get("name", ""), c.get("arguments", "")
        )
        for c in data.get("tool_calls") or ()
    )
    return Message(
        role=data["role"],
        content=as_text(data.get("content")),
        tool_calls=calls,
        tool_call_id=data.get("tool_call_id"),
        from_history=bool(data.get("from_history")),
        metrics=MessageMetrics.from_dict(data.get("metrics")),
    )


@dataclass
class UserMemory:
    """A fact about one person, as Agno's `UserMemory` has it (plain and mutable: a script builds
    one, then stores it), plus the run that wrote it (`source_run_id`).

    Timestamps are timezone-aware datetimes (Agno: epoch seconds); `from_dict` takes either.
    """

    memory: str
    memory_id: str | None = None
    topics: list[str] = field(default_factory=list)
    user_id: str | None = None
    input: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    feedback: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    source_run_id: str | None = None
    # When the fact became true (a storage sets it: when it was learned) and stopped being true (None
    # while current), and the memory that replaced it. Agno's UserMemory has none of them.
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    superseded_by: str | None = None

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    @property
    def stored_id(self) -> str:
        """The id of a memory read from a storage (one built in code has none until stored)."""
        if self.memory_id is None:
            raise ValueError("this memory is not stored yet: it has no memory_id")
        return self.memory_id

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _MEMORY_FIELDS}
        for name in _MEMORY_TIMES:
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return {name: value for name, value in data.items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserMemory:
        known = {name: data[name] for name in _MEMORY_FIELDS if name in data}
        if "memory" not in known:
            raise ValueError("a memory needs its text ('memory')")
        known["topics"] = list(known.get("topics") or [])
        for name in _MEMORY_TIMES:
            known[name] = when(known.get(name))
        return cls(**known)


_MEMORY_FIELDS = (
    "memory",
    "memory_id",
    "topics",
    "user_id",
    "input",
    "created_at",
    "updated_at",
    "feedback",
    "agent_id",
    "team_id",
    "source_run_id",
    "valid_from",
    "valid_to",
    "superseded_by",
)
_MEMORY_TIMES = ("created_at", "updated_at", "valid_from", "valid_to")


@dataclass
class SessionSummaryRecord:
    """A session's running summary, as Agno's `SessionSummary` (plus the session and the last run it
    covers): `SessionSummary(summary=..., topics=[...])` builds one as in Agno."""

    session_id: str = ""
    summary: str = ""
    topics: list[str] = field(default_factory=list)
    last_run_id: str | None = None
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "summary": self.summary,
            "topics": list(self.topics),
            "last_run_id": self.last_run_id,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionSummaryRecord:
        return cls(
            session_id=data.get("session_id", ""),
            summary=data["summary"],
            topics=list(data.get("topics") or []),
            last_run_id=data.get("last_run_id"),
            updated_at=when(data.get("updated_at")),
        )


SessionSummary = SessionSummaryRecord  # Agno's name


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
    # The run it follows in the thread; runs with one parent are versions of one turn.
    parent_run_id: str | None = None
    # On the thread shown (of each turn, the version chosen); a version not shown is False.
    shown: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))  # Agno's enum, equal to the word

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["status"] = RunStatus(self.status).value
        data["messages"] = [m.to_dict() for m in self.messages]
        data["created_at"] = self.created_at.isoformat() if self.created_at else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        known.setdefault("session_id", data.get("session_id") or "")
        known.setdefault("user_id", data.get("user_id") or "")
        known.setdefault("status", RunStatus.completed)
        known.setdefault("input", as_text(data.get("input")))
        known.setdefault("content", as_text(data.get("content")))
        known["messages"] = [_message(m) for m in data.get("messages") or []]
        known["created_at"] = when(known.get("created_at"))
        return cls(**known)


@dataclass(frozen=True)
class SessionMetrics:
    """A session's totals over its runs."""

    runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0


@dataclass(frozen=True)
class PersonControls:
    """What the person chose for their runs (their settings) and what they asked of this one.

    `about_you` and `how_to_respond` are their custom instructions, a section of the context of their
    own. A temporary chat neither reads nor writes memories; a run not to `remember` writes none.
    With `review_memories`, what the agent would remember is proposed to the person instead.
    """

    about_you: str = ""
    how_to_respond: str = ""
    use_memories: bool = True
    learn_memories: bool = True
    review_memories: bool = False
    temporary: bool = False
    remember: bool = True

    @property
    def reads_memories(self) -> bool:
        return self.use_memories and not self.temporary

    @property
    def writes_memories(self) -> bool:
        return self.learn_memories and self.remember and not self.temporary


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
    controls: PersonControls = field(default_factory=PersonControls)


@dataclass(frozen=True)
class PausedRun:
    """A paused run taken up again (`run_resume`): its handle, its stored messages after the user's,
    and what it had used before the pause."""

    run: RunHandle
    messages: list[Message]
    usage: Usage


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
    # How the memories were chosen, with each one's scores (a memory.recall.Recall, or None).
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
    # The last run of a stored summary of another version of the thread (a turn edited or
    # regenerated before its end): the fold starts afresh and replaces it.
    replaces: str | None = None
