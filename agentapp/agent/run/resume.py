"""A paused run going on (`Agent.continue_run`): what it had said and heard before the pause, and its
caller's answer to each call that waited for confirmation, as Agno settles them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agentapp.llm.types import Message, ToolCall, Usage

from ..events import RunContinued
from ..loop import Settled, ToolExecutionFinished
from ..metrics import ToolCallMetrics
from ..records import RunHandle
from ..requirements import REJECTED, ToolExecution, unanswered_calls

PAUSED_CONTENT = "I have tools to execute, but I need confirmation."  # Agno's paused run's content


def tool_ran(
    tools: list[ToolExecution], resumed: Resumed | None, event: ToolExecutionFinished
) -> ToolExecution:
    """A call that ran, noted among the run's `tools`: a confirmed call updates its own ToolExecution
    (the one its caller answered), any other is added."""
    call = event.call
    metrics = ToolCallMetrics(event.started_at, event.ended_at, event.ended_at - event.started_at)
    confirmed = resumed.ran(call.id, event.result, event.is_error, metrics) if resumed else None
    if confirmed is not None:
        return confirmed
    tools.append(ToolExecution(call.id, call.name, call.arguments, event.result, event.is_error, metrics))
    return tools[-1]


@dataclass
class Resumed:
    """`messages`: the paused run's stored messages after the user's; `answers`: the caller's
    ToolExecutions (by call id) saying `confirmed`; `earlier`: the run's tools before the pause."""

    messages: tuple[Message, ...]
    answers: dict[str, ToolExecution]
    usage: Usage = field(default_factory=Usage)
    earlier: Sequence[ToolExecution] = ()

    def __post_init__(self) -> None:
        self._settle: list[Settled] = []
        self._tools: list[ToolExecution] = [t for t in self.earlier if not t.requires_confirmation]
        self._confirmed: dict[str, ToolExecution] = {}
        for call_id, name, arguments in unanswered_calls(self.messages):
            # The call is the stored one; the caller's object only says yes or no (none: rejected).
            tool = self.answers.get(call_id) or ToolExecution(call_id, name, arguments)
            call = ToolCall(call_id, name, arguments)
            if tool.confirmed is True and tool.result is None:
                self._confirmed[call_id] = tool
                self._settle.append(Settled(call, True, ""))
            else:
                self._settle.append(Settled(call, False, tool.confirmation_note or REJECTED))
                tool.confirmed, tool.tool_call_error = False, True
                tool.confirmation_note = tool.confirmation_note or "Tool call was rejected"
                tool.requires_confirmation = False
            self._tools.append(tool)

    @property
    def settle(self) -> tuple[Settled, ...]:
        return tuple(self._settle)

    def tools_so_far(self) -> list[ToolExecution]:
        return list(self._tools)

    def ran(
        self, call_id: str, result: str, is_error: bool, metrics: ToolCallMetrics
    ) -> ToolExecution | None:
        """A confirmed call ran: its ToolExecution (the caller's) now says how; None for another call."""
        tool = self._confirmed.pop(call_id, None)
        if tool is not None:
            tool.result, tool.tool_call_error, tool.metrics = result, is_error, metrics
            tool.requires_confirmation = False
        return tool

    def continued(self, run: RunHandle) -> RunContinued:
        return RunContinued(run.run_id, run.session_id, run.user_id)


__all__ = ["PAUSED_CONTENT", "Resumed", "tool_ran"]
