"""A paused run going on (`Agent.continue_run`): what it had said and heard before the pause, and its
caller's answer to each call it waited on (confirmed or rejected, filled in, or run elsewhere), as
Agno settles them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from agentapp.llm.types import Message, ToolCall, Usage

from ..events import RunContinued
from ..loop import Settled, ToolExecutionFinished
from ..metrics import ToolCallMetrics
from ..records import RunHandle
from ..requirements import (
    GET_USER_INPUT,
    REJECTED,
    PausingTool,
    RunRequirement,
    ToolExecution,
    pending_tools,
    requirements_of,
    unanswered_calls,
    user_inputs_retrieved,
    with_user_input,
)


def tool_ran(
    tools: list[ToolExecution], resumed: Resumed | None, event: ToolExecutionFinished
) -> ToolExecution:
    """A call that ran, noted among the run's `tools`: a call its caller confirmed or filled in updates
    its own ToolExecution (the one its caller answered), any other is added."""
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
    ToolExecutions (by call id) saying what it answers; `earlier`: the run's tools before the pause,
    `requirements`: its requirements so far (Agno's run keeps them all); `tools`: the Agent's, which
    say what a call left unanswered waits for."""

    messages: tuple[Message, ...]
    answers: dict[str, ToolExecution]
    usage: Usage = field(default_factory=Usage)
    earlier: Sequence[ToolExecution] = ()
    requirements: Sequence[RunRequirement] = ()
    tools: Sequence[PausingTool] = ()

    def __post_init__(self) -> None:
        self._settle: list[Settled] = []
        self._tools: list[ToolExecution] = [t for t in self.earlier if not t.is_paused]
        self._confirmed: dict[str, ToolExecution] = {}
        for call_id, name, arguments in unanswered_calls(self.messages):
            # The call is the stored one; the caller's object only answers it.
            tool = self.answers.get(call_id) or pending_tools([(call_id, name, arguments)], self.tools)[0]
            self._settle.append(self._settled(tool, ToolCall(call_id, name, arguments)))
            self._tools.append(tool)

    def _settled(self, tool: ToolExecution, call: ToolCall) -> Settled:
        """What becomes of a call the run waited on, as Agno's `handle_tool_call_updates` decides."""
        if tool.external_execution_required:  # run by the caller: the model is told what it returned
            tool.external_execution_required = False
            if tool.result is None:  # only a hand-made answer gets here (`unanswered_external`)
                tool.tool_call_error = True
                return Settled(call, False, f"Tool {tool.tool_name} was not executed: no result was given")
            result = tool.result if isinstance(tool.result, str) else json.dumps(tool.result, default=str)
            return Settled(call, False, result)
        if tool.requires_user_input and tool.tool_name == GET_USER_INPUT:  # asked by the model: told
            tool.requires_user_input, tool.answered = False, True
            return Settled(call, False, user_inputs_retrieved(tool.user_input_schema or ()))
        if tool.requires_user_input:  # the caller's values, then it runs
            tool.tool_args = with_user_input(call.arguments, tool.user_input_schema or ())
            tool.requires_user_input, tool.answered = False, True
            self._confirmed[call.id] = tool
            return Settled(ToolCall(call.id, call.name, tool.tool_args), True, "")
        if tool.confirmed is True and tool.result is None:
            self._confirmed[call.id] = tool
            return Settled(call, True, "")
        note = tool.confirmation_note or REJECTED  # rejected, or left unanswered: as Agno, the same
        tool.confirmed, tool.tool_call_error = False, True
        tool.confirmation_note = tool.confirmation_note or "Tool call was rejected"
        tool.requires_confirmation = False
        return Settled(call, False, note)

    @property
    def settle(self) -> tuple[Settled, ...]:
        return tuple(self._settle)

    def tools_so_far(self) -> list[ToolExecution]:
        return list(self._tools)

    def ran(
        self, call_id: str, result: str, is_error: bool, metrics: ToolCallMetrics
    ) -> ToolExecution | None:
        """A call its caller confirmed or filled in ran: its ToolExecution (the caller's) now says how;
        None for another call."""
        tool = self._confirmed.pop(call_id, None)
        if tool is not None:
            tool.result, tool.tool_call_error, tool.metrics = result, is_error, metrics
            tool.requires_confirmation = False
        return tool

    def continued(self, run: RunHandle) -> RunContinued:
        return RunContinued(run.run_id, run.session_id, run.user_id)


def run_requirements(
    resumed: Resumed | None, waiting: Sequence[ToolExecution]
) -> list[RunRequirement] | None:
    """A run's requirements: those it had before a pause it went on from, then one for each call it
    waits on now (None: it never waited)."""
    made = [*(resumed.requirements if resumed else ()), *requirements_of(waiting)]
    return made or None


def unanswered_external(answers: Sequence[ToolExecution]) -> str | None:
    """The name of a call its caller was to run that has no result: the run cannot go on (Agno's
    ValueError), and is left paused."""
    return next((t.tool_name for t in answers if t.external_execution_required and t.result is None), None)


__all__ = ["Resumed", "run_requirements", "tool_ran", "unanswered_external"]
