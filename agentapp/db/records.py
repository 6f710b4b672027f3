"""ORM rows as the agent's plain records (and the handle DjangoDb gives a run): shared by DjangoDb's
verbs and its Agno-named ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentapp.agent.agent_session import SessionRecord
from agentapp.agent.records import (
    Message,
    PersonControls,
    RunHandle,
    SessionSummaryRecord,
    ToolCall,
    UserMemory,
)
from memory_app.models import Memory
from sessions_app.models import AgentSession, PersonSettings, Run, SessionSummary


@dataclass(frozen=True)
class DjangoRunHandle(RunHandle):
    """A run with its rows' primary keys, so later writes need no lookups."""

    run_pk: int = 0
    session_pk: int = 0
    user_pk: int = 0
    began_at: datetime | None = None  # when the run was created: its late writes check erasures since
    next_position: int = 1  # where its next stored message goes (after a paused run's, when resumed)


def keys_of(run: RunHandle) -> DjangoRunHandle:
    if not isinstance(run, DjangoRunHandle):
        raise TypeError(f"{run!r} was not started by DjangoDb")
    return run


def run_handle_of(run: Run, session: AgentSession, username: str, chosen: PersonSettings) -> DjangoRunHandle:
    """The run's handle, with the controls of the person's settings (`chosen`), the session and the run."""
    controls = PersonControls(
        about_you=chosen.about_you,
        how_to_respond=chosen.how_to_respond,
        use_memories=chosen.use_memories,
        learn_memories=chosen.learn_memories,
        review_memories=chosen.review_memories,
        temporary=session.temporary,
        remember=run.remember,
    )
    return DjangoRunHandle(
        run_id=run.run_id,
        session_id=session.session_id,
        user_id=username,
        input=run.input,
        session_has_title=bool(session.title),
        session_state=dict(session.session_state or {}),
        run_pk=run.pk,
        session_pk=session.pk,
        user_pk=session.user_id,
        began_at=run.created_at,
        controls=controls,
    )


def memory_record(memory: Memory, username: str, *, source_run_id: str | None = None) -> UserMemory:
    """`source_run_id`: the writing run's id when the caller knows it; else read from the row's
    `source_run` (selectors that hand out many rows join it)."""
    if source_run_id is None and memory.source_run is not None:
        source_run_id = memory.source_run.run_id
    return UserMemory(
        memory_id=memory.memory_id,
        memory=memory.text,
        topics=list(memory.topics),
        user_id=username,
        created_at=memory.created_at,
        updated_at=memory.updated_at,
        source_run_id=source_run_id,
        valid_from=memory.valid_from,
        valid_to=memory.valid_to,
        superseded_by=memory.superseded_by.memory_id if memory.superseded_by is not None else None,
        input=memory.input or None,
        agent_id=memory.agent_id or None,
    )


def recalled_memory(row: dict[str, Any], username: str) -> UserMemory:
    return UserMemory(
        memory_id=row["memory_id"],
        memory=row["text"],
        topics=row["topics"],
        user_id=username,
        updated_at=row["updated_at"],
        valid_from=row.get("valid_from"),
        valid_to=row.get("valid_to"),
        superseded_by=row.get("superseded_by"),
    )


def session_record(session: AgentSession, username: str) -> SessionRecord:
    return SessionRecord(
        session_id=session.session_id,
        user_id=username,
        agent_name=session.agent_name,
        title=session.title,
        session_state=dict(session.session_state),
        created_at=session.created_at,
        updated_at=session.updated_at,
    )


def message_of(row: dict[str, Any]) -> Message:
    calls = tuple(ToolCall(c["id"], c["name"], c.get("arguments", "")) for c in row["tool_calls"] or ())
    return Message(
        role=row["role"],
        content=row["content"],
        tool_calls=calls,
        tool_call_id=row["tool_call_id"] or None,
        from_history=bool(row.get("from_history")),
    )


def summary_record(summary: SessionSummary, session_id: str) -> SessionSummaryRecord:
    return SessionSummaryRecord(
        session_id=session_id,
        summary=summary.text,
        topics=list(summary.topics),
        last_run_id=summary.last_run.run_id if summary.last_run else None,
        updated_at=summary.updated_at,
    )
