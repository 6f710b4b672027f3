"""Agno's `RunRequirement` (`agno.run.requirement`): what a paused run waits for before `continue_run`;
`ToolExecution`, one tool call of a run (re-exported by `events`).

Only confirmation is served: one requirement per call of a tool made with `requires_confirmation`.
`confirm()` / `reject(note)` set the call's `confirmed` (and `confirmation_note`) as Agno's do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentapp.llm.types import Message, ToolCall

from .metrics import ToolCallMetrics
from .run_status import RunStatus

REJECTED = "Function call was rejected by the user"  # what the model is told, as Agno tells it


@dataclass
class ToolExecution:
    """One tool call as Agno's events carry it (`event.tool`); a run's `tools` have their `metrics`.

    A call of a tool made with `requires_confirmation` pauses its run: the caller sets `confirmed`
    (and, rejecting it, may say why in `confirmation_note`) before `continue_run`."""

    tool_call_id: str
    tool_name: str
    tool_args: str
    result: str | None = None
    tool_call_error: bool = False
    metrics: ToolCallMetrics | None = field(default=None, compare=False)
    requires_confirmation: bool | None = None
    confirmed: bool | None = None
    confirmation_note: str | None = None

    @property
    def is_paused(self) -> bool:
        return bool(self.requires_confirmation)


def pending_tools(calls: Iterable[ToolCall | tuple[str, str, str]]) -> list[ToolExecution]:
    """The calls a paused run waits on (ToolCalls, or their id, name and arguments), as listed on its
    RunOutput."""
    made = [c if isinstance(c, tuple) else (c.id, c.name, c.arguments) for c in calls]
    return [ToolExecution(id, name, arguments, requires_confirmation=True) for id, name, arguments in made]


class RunRequirement:
    def __init__(
        self, tool_execution: ToolExecution, id: str | None = None, created_at: datetime | None = None
    ) -> None:
        self.id = id or str(uuid.uuid4())
        self.tool_execution = tool_execution
        self.created_at = created_at or datetime.now(UTC)
        self.confirmation: bool | None = None
        self.confirmation_note: str | None = None

    @property
    def needs_confirmation(self) -> bool:
        if self.confirmation is not None or self.tool_execution.confirmed is not None:
            return False
        return bool(self.tool_execution.requires_confirmation)

    def confirm(self) -> None:
        if not self.needs_confirmation:
            raise ValueError("This requirement does not require confirmation")
        self.confirmation = self.tool_execution.confirmed = True

    def reject(self, note: str | None = None) -> None:
        if not self.needs_confirmation:
            raise ValueError("This requirement does not require confirmation")
        self.confirmation = self.tool_execution.confirmed = False
        self.confirmation_note = self.tool_execution.confirmation_note = note

    def is_resolved(self) -> bool:
        return not self.needs_confirmation

    def __repr__(self) -> str:
        return f"RunRequirement(tool={self.tool_execution.tool_name!r}, confirmation={self.confirmation!r})"


def unanswered_calls(messages: Sequence[Message]) -> list[tuple[str, str, str]]:
    """The tool calls (id, name, arguments) of a paused run's messages that no tool message answers:
    the ones it waits on."""
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    return [
        (call.id, call.name, call.arguments)
        for m in messages
        if m.role == "assistant"
        for call in m.tool_calls
        if call.id not in answered
    ]


class PauseViews:
    """A part of `RunOutput`: Agno's views of a paused run."""

    status: Any
    tools: list[ToolExecution]
    requirements: list[RunRequirement] | None

    @property
    def is_paused(self) -> bool:
        return bool(self.status == RunStatus.paused)

    @property
    def is_cancelled(self) -> bool:
        return bool(self.status == RunStatus.cancelled)

    @property
    def active_requirements(self) -> list[RunRequirement]:
        return [r for r in self.requirements or () if not r.is_resolved()]

    @property
    def tools_requiring_confirmation(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.requires_confirmation]


def requirements_of(tools: Sequence[ToolExecution]) -> list[RunRequirement]:
    """One requirement for each call awaiting confirmation."""
    return [RunRequirement(tool) for tool in tools if tool.requires_confirmation]


__all__ = [
    "REJECTED",
    "PauseViews",
    "RunRequirement",
    "ToolExecution",
    "pending_tools",
    "requirements_of",
    "unanswered_calls",
]
