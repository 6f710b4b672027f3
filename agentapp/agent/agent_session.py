"""Agno's session record, `AgentSession` (`agno.session.agent`), as every storage returns it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agentapp.llm.types import Message, ToolCall

from .records import RunRecord, SessionSummaryRecord, when

# The runs whose messages Agno's `get_messages` leaves out by default.
SKIPPED_STATUSES = ("paused", "cancelled", "error")


class AgentSession:
    """A session as Agno's `AgentSession` has it: `session_data` (`session_name`, `session_state`),
    `agent_id`, `runs` (filled by `get_session`), `summary`, `to_dict` / `from_dict`; plain and
    mutable, as Agno's. It also reads as this project's record: `title`, `session_state`, `agent_name`.

    What a storage keeps of it: the id, the person (`user_id`; none: "default"), `agent_id` (the agent's
    name), the name and the state. Agno's `metadata`, `agent_data` and other `session_data` keys are
    carried on the object, not stored. Timestamps are datetimes (Agno: epoch seconds).
    """

    def __init__(
        self,
        session_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        user_id: str | None = None,
        workflow_id: str | None = None,
        session_data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        agent_data: dict[str, Any] | None = None,
        runs: list[RunRecord] | None = None,
        summary: SessionSummaryRecord | None = None,
        created_at: datetime | int | None = None,
        updated_at: datetime | int | None = None,
        *,
        agent_name: str | None = None,
        title: str | None = None,
        session_state: dict[str, Any] | None = None,
    ) -> None:
        self.session_id = session_id
        self.agent_id = agent_id if agent_id is not None else agent_name
        self.team_id, self.workflow_id = team_id, workflow_id
        self.user_id: str = user_id or ""
        self.session_data = dict(session_data) if session_data is not None else None
        if title is not None or session_state is not None:
            self.session_data = {
                **(self.session_data or {}),
                "session_name": title or "",
                "session_state": {},
            }
            self.session_data["session_state"] = dict(session_state or {})
        self.metadata = metadata
        self.agent_data = (
            agent_data if agent_data is not None else ({"name": agent_name} if agent_name else None)
        )
        self.runs: list[RunRecord] = list(runs or [])
        self.summary = summary
        self.created_at, self.updated_at = when(created_at), when(updated_at)

    @property
    def title(self) -> str:
        return str((self.session_data or {}).get("session_name") or "")

    @property
    def session_state(self) -> dict[str, Any]:
        return dict((self.session_data or {}).get("session_state") or {})

    @property
    def agent_name(self) -> str:
        return self.agent_id or ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AgentSession):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"AgentSession(session_id={self.session_id!r}, user_id={self.user_id!r}, title={self.title!r})"

    def get_run(self, run_id: str) -> RunRecord | None:
        return next((run for run in self.runs if run.run_id == run_id), None)

    def upsert_run(self, run: Any) -> None:
        """Put `run` (a RunOutput or a stored run) on this record, in place of the run with its id
        if there is one, else last, as Agno's; the storage is not written (the run stores itself)."""
        at = next((i for i, kept in enumerate(self.runs) if kept.run_id == run.run_id), None)
        if at is None:
            self.runs.append(run)
        else:
            self.runs[at] = run

    def get_messages(
        self,
        agent_id: str | None = None,
        team_id: str | None = None,
        last_n_runs: int | None = None,
        limit: int | None = None,
        skip_roles: Sequence[str] | None = None,
        skip_statuses: Sequence[str] | None = None,
        skip_history_messages: bool = True,
    ) -> list[Message]:
        """The messages of the runs kept on the session, as Agno's: runs of `agent_id` (a run without
        one is the session's agent's) and of `team_id` (no run here is a team's), of the thread shown,
        not `skip_statuses` (by default the paused, cancelled and failed ones), of the last
        `last_n_runs`; the last `limit` messages, never opening on a tool result."""
        skipped = SKIPPED_STATUSES if skip_statuses is None else skip_statuses
        runs = [r for r in self.runs if getattr(r, "shown", True) and not any(r.status == s for s in skipped)]
        if agent_id:
            runs = [r for r in runs if (getattr(r, "agent_id", None) or self.agent_id) == agent_id]
        if team_id:
            runs = [r for r in runs if getattr(r, "team_id", None) == team_id]
        if last_n_runs is not None:
            runs = runs[-last_n_runs:] if last_n_runs > 0 else []
        messages = [
            m
            for r in runs
            for m in r.messages
            if not (m.from_history and skip_history_messages) and m.role not in (skip_roles or ())
        ]
        if limit is not None:
            messages = messages[-limit:] if limit > 0 else []
            while messages and messages[0].role == "tool":
                messages.pop(0)
        return messages

    def get_chat_history(self, last_n_runs: int | None = None) -> list[Message]:
        """The user's and the assistant's words of the runs kept on the session (the last ones)."""
        said = self.get_messages(last_n_runs=last_n_runs, skip_roles=("system", "tool"), skip_statuses=())
        return [m for m in said if m.content]

    def get_tool_calls(self, num_calls: int | None = None) -> list[ToolCall]:
        """The tool calls of the session's runs, the latest run first."""
        calls = [call for run in reversed(self.runs) for m in run.messages for call in m.tool_calls]
        return calls[:num_calls] if num_calls else calls

    def get_session_summary(self) -> SessionSummaryRecord | None:
        return self.summary

    def to_dict(self, include_runs: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in _SESSION_FIELDS}
        for name in ("created_at", "updated_at"):
            data[name] = data[name].isoformat() if data[name] is not None else None
        data["summary"] = self.summary.to_dict() if self.summary else None
        if include_runs:
            data["runs"] = [run.to_dict() for run in self.runs] or None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentSession | None:
        """The session of a dict (Agno's or `to_dict`'s); None without a `session_id`, as Agno's."""
        if not data or data.get("session_id") is None:
            return None
        known: dict[str, Any] = {name: data.get(name) for name in _SESSION_FIELDS}
        runs = [RunRecord.from_dict(run) if isinstance(run, dict) else run for run in data.get("runs") or []]
        summary = data.get("summary")
        if isinstance(summary, dict):
            summary = SessionSummaryRecord.from_dict({"session_id": data["session_id"], **summary})
        return cls(**known, runs=runs, summary=summary)


_SESSION_FIELDS = (
    "session_id",
    "agent_id",
    "team_id",
    "user_id",
    "workflow_id",
    "session_data",
    "metadata",
    "agent_data",
    "created_at",
    "updated_at",
)

SessionRecord = AgentSession  # this project's earlier name


def narrowed_page(
    sessions: list[AgentSession],
    *,
    component_id: str | None,
    start_timestamp: int | None,
    end_timestamp: int | None,
    limit: int | None,
    page: int | None,
) -> list[AgentSession]:
    """Agno's `get_sessions` filters a storage does not query by: the agent (`component_id`, its
    name here) and when the session began (epoch seconds, both ends included); then the `page`."""
    kept = [
        s
        for s in sessions
        if (not component_id or s.agent_id == component_id)
        and (start_timestamp is None or (s.created_at and s.created_at.timestamp() >= start_timestamp))
        and (end_timestamp is None or (s.created_at and s.created_at.timestamp() <= end_timestamp))
    ]
    offset = (max(1, page) - 1) * limit if page and limit else 0
    return kept[offset : None if limit is None else offset + max(0, limit)]


__all__ = ["AgentSession", "SessionRecord", "narrowed_page"]
