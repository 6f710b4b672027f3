"""Agno's `RunRequirement` (`agno.run.requirement`): what a paused run waits for before `continue_run`;
`ToolExecution`, one tool call of a run (re-exported by `events`); `UserInputField`, one value a
tool asks its caller for (Agno's `agno.tools.function.UserInputField`).

One requirement per call of a tool that pauses the run: made with `requires_confirmation` (the caller
confirms or rejects it: `confirm()` / `reject(note)`), `requires_user_input` (the caller fills its
`user_input_schema`: `provide_user_input({...})` or each field's `value`) or `external_execution`
(the caller runs it and hands back what it returned: `set_external_execution_result(...)`, or the
tool's `result`). Each sets what Agno's sets, on the requirement and on its `tool_execution`.
"""

from __future__ import annotations

import functools
import inspect
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, get_type_hints

from agentapp.llm.types import Message, ToolCall

from .metrics import ToolCallMetrics
from .run_status import RunStatus

REJECTED = "Function call was rejected by the user"  # what the model is told, as Agno tells it
# Agno's `UserControlFlowTools` tool: the model names the fields it wants filled; it never runs.
GET_USER_INPUT = "get_user_input"
_FIELD_TYPES: dict[str, type] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
}
PauseType = Literal["confirmation", "user_input", "user_feedback", "external_execution"]


@dataclass
class UserInputField:
    """One value a paused tool call waits for: its parameter's `name` and type; the model's `value`
    when it gave one (a field of `user_input_fields` it is never asked for), else None until the
    caller sets it."""

    name: str
    field_type: type
    description: str | None = None
    value: Any | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "field_type": getattr(self.field_type, "__name__", str(self.field_type)),
            "description": self.description,
            "value": self.value,
        }


@dataclass
class ToolExecution:
    """One tool call as Agno's events carry it (`event.tool`); a run's `tools` have their `metrics`.

    A call of a tool that pauses its run says what it waits for (`requires_confirmation`,
    `requires_user_input` with its `user_input_schema`, `external_execution_required`); the caller
    answers on it (`confirmed` and `confirmation_note`, the fields' values, `result`) before
    `continue_run`. `tool_args` is the arguments' JSON text."""

    tool_call_id: str
    tool_name: str
    tool_args: str
    result: str | None = None
    tool_call_error: bool = False
    metrics: ToolCallMetrics | None = field(default=None, compare=False)
    requires_confirmation: bool | None = None
    confirmed: bool | None = None
    confirmation_note: str | None = None
    requires_user_input: bool | None = None
    user_input_schema: list[UserInputField] | None = None
    answered: bool | None = None
    external_execution_required: bool | None = None
    external_execution_silent: bool | None = None

    @property
    def is_paused(self) -> bool:
        return bool(
            self.requires_confirmation or self.requires_user_input or self.external_execution_required
        )


class PausingTool(Protocol):
    """What a paused call's tool says of how it pauses (a `tools.Tool`)."""

    @property
    def name(self) -> str: ...

    @property
    def fn(self) -> Any: ...

    @property
    def spec(self) -> Any: ...

    @property
    def requires_user_input(self) -> bool: ...

    @property
    def user_input_fields(self) -> tuple[str, ...]: ...

    @property
    def external_execution(self) -> bool: ...

    @property
    def external_execution_silent(self) -> bool: ...


def _arguments(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def user_input_schema(tool: PausingTool, arguments: str) -> list[UserInputField]:
    """As Agno's: a field for each of the tool's parameters (the model's and its `user_input_fields`,
    in the function's order), holding the value the model gave."""
    fn = tool.fn
    while isinstance(fn, functools.partial):
        fn = fn.func
    try:
        hints = get_type_hints(fn)
    except Exception:  # an annotation that does not resolve: text, as the model is told
        hints = {}
    asked = {*tool.spec.parameters.get("properties", {}), *tool.user_input_fields}
    given = _arguments(arguments)
    return [
        UserInputField(name, hints.get(name, str), value=given.get(name))
        for name in inspect.signature(fn).parameters
        if name in asked
    ]


def asked_fields(arguments: str) -> list[UserInputField]:
    """The fields the model asks for through `get_user_input` (its `user_input_fields`), as Agno's."""
    asked = _arguments(arguments).get("user_input_fields") or []
    return [
        UserInputField(
            str(item.get("field_name")),
            _FIELD_TYPES.get(str(item.get("field_type")), str),
            item.get("field_description"),
        )
        for item in asked
        if isinstance(item, dict)
    ]


def user_inputs_retrieved(schema: Sequence[UserInputField]) -> str:
    """What the model is told of the fields it asked for through `get_user_input`, in Agno's words."""
    values = [{"name": f.name, "value": f.value} for f in schema]
    return f"User inputs retrieved: {json.dumps(values, ensure_ascii=False)}"


def with_user_input(arguments: str, schema: Sequence[UserInputField]) -> str:
    """The call's arguments with the caller's values (Agno's `handle_user_input_update`)."""
    values = _arguments(arguments)
    values.update({f.name: f.value for f in schema})
    return json.dumps(values)


def pending_tools(
    calls: Iterable[ToolCall | tuple[str, str, str]], tools: Sequence[PausingTool] = ()
) -> list[ToolExecution]:
    """The calls a paused run waits on (ToolCalls, or their id, name and arguments), as listed on its
    RunOutput: each says what it waits for, by its tool among `tools` (confirmation, when none)."""
    by_name = {t.name: t for t in tools}
    waiting = []
    made_calls = (c if isinstance(c, tuple) else (c.id, c.name, c.arguments) for c in calls)
    for call_id, name, arguments in made_calls:
        tool, made = by_name.get(name), ToolExecution(call_id, name, arguments)
        if tool is not None and tool.requires_user_input:
            made.requires_user_input = True
            made.user_input_schema = (
                asked_fields(arguments) if name == GET_USER_INPUT else user_input_schema(tool, arguments)
            )
        elif tool is not None and tool.external_execution:
            made.external_execution_required = True
            made.external_execution_silent = tool.external_execution_silent or None
        else:
            made.requires_confirmation = True
        waiting.append(made)
    return waiting


def paused_content(tools: Iterable[ToolExecution]) -> str:
    """A paused run's content, as Agno's `get_paused_content` says it: by the last call that waits
    (a silent external one says nothing)."""
    content = ""
    for tool in tools:
        if tool.external_execution_silent:
            continue
        if tool.requires_confirmation and not tool.confirmed:
            content = "I have tools to execute, but I need confirmation."
        elif tool.requires_user_input:
            content = "I have tools to execute, but I need user input."
        elif tool.external_execution_required:
            content = "I have tools to execute, but it needs external execution."
    return content


class RunRequirement:
    def __init__(
        self, tool_execution: ToolExecution, id: str | None = None, created_at: datetime | None = None
    ) -> None:
        self.id = id or str(uuid.uuid4())
        self.tool_execution = tool_execution
        self.user_input_schema = tool_execution.user_input_schema
        self.created_at = created_at or datetime.now(UTC)
        self.confirmation: bool | None = None
        self.confirmation_note: str | None = None
        self.external_execution_result: str | None = None

    @property
    def needs_confirmation(self) -> bool:
        if self.confirmation is not None or self.tool_execution.confirmed is not None:
            return False
        return bool(self.tool_execution.requires_confirmation)

    @property
    def needs_user_input(self) -> bool:
        tool = self.tool_execution
        if tool.answered is True:
            return False
        if tool.requires_user_input:
            return True
        return any(f.value is None for f in self.user_input_schema or ())

    @property
    def needs_user_feedback(self) -> bool:
        return False  # Agno's `ask_user` (UserFeedbackTools) is not served

    @property
    def needs_external_execution(self) -> bool:
        if self.external_execution_result is not None:
            return False
        return bool(self.tool_execution.external_execution_required)

    @property
    def external_execution_silent(self) -> bool:
        return self.needs_external_execution and bool(self.tool_execution.external_execution_silent)

    @property
    def pause_type(self) -> PauseType:
        if self.tool_execution.external_execution_required:
            return "external_execution"
        if self.tool_execution.requires_user_input:
            return "user_input"
        return "confirmation"

    def confirm(self) -> None:
        if not self.needs_confirmation:
            raise ValueError("This requirement does not require confirmation")
        self.confirmation = self.tool_execution.confirmed = True

    def reject(self, note: str | None = None) -> None:
        if not self.needs_confirmation:
            raise ValueError("This requirement does not require confirmation")
        self.confirmation = self.tool_execution.confirmed = False
        self.confirmation_note = self.tool_execution.confirmation_note = note

    def provide_user_input(self, values: dict[str, Any]) -> None:
        """Fill the fields named in `values`; answered once every field has a value (as Agno's)."""
        if not self.needs_user_input:
            raise ValueError("This requirement does not require user input")
        schema = self.user_input_schema or []
        for input_field in schema:
            if input_field.name in values:
                input_field.value = values[input_field.name]
        for tool_field in self.tool_execution.user_input_schema or ():  # the same fields, or a copy
            if tool_field.name in values:
                tool_field.value = values[tool_field.name]
        if all(f.value is not None for f in schema):
            self.tool_execution.answered = True

    def set_external_execution_result(self, result: str) -> None:
        if not self.needs_external_execution:
            raise ValueError("This requirement does not require external execution")
        self.external_execution_result = self.tool_execution.result = result

    def is_resolved(self) -> bool:
        return not (self.needs_confirmation or self.needs_user_input or self.needs_external_execution)

    def __repr__(self) -> str:
        return (
            f"RunRequirement(tool={self.tool_execution.tool_name!r}, pause_type={self.pause_type!r}, "
            f"resolved={self.is_resolved()!r})"
        )


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

    @property
    def tools_requiring_user_input(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.requires_user_input]

    @property
    def tools_awaiting_external_execution(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.external_execution_required]


def requirements_of(tools: Sequence[ToolExecution]) -> list[RunRequirement]:
    """One requirement for each call that waits for the caller."""
    return [RunRequirement(tool) for tool in tools if tool.is_paused]


__all__ = [
    "GET_USER_INPUT",
    "REJECTED",
    "PauseViews",
    "PausingTool",
    "RunRequirement",
    "ToolExecution",
    "UserInputField",
    "asked_fields",
    "paused_content",
    "pending_tools",
    "requirements_of",
    "unanswered_calls",
    "user_input_schema",
    "user_inputs_retrieved",
    "with_user_input",
]
