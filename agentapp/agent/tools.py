"""Tools the model may call: a spec the model sees and a function the loop runs."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import json
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, get_type_hints

from agentapp.llm.types import ToolSpec

from .events import is_custom_event

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
# Parameters the run fills in, never the model (Agno's): the run's context, or its session state alone.
CONTEXT_PARAMETERS = ("run_context", "session_state")


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    fn: Callable[..., Any]
    context_parameters: tuple[str, ...] = ()
    # Guidance for the model on using it, added to the system message (Agno's tool and toolkit
    # `instructions` with `add_instructions`).
    instructions: str | None = None
    # Agno's human in the loop: a call of it pauses the run until its caller confirms or rejects it
    # (`requires_confirmation`), fills its `user_input_fields` (`requires_user_input`: all of its
    # parameters when none are named) or runs it and hands back the result (`external_execution`).
    requires_confirmation: bool = False
    requires_user_input: bool = False
    user_input_fields: tuple[str, ...] = ()
    external_execution: bool = False
    external_execution_silent: bool = False  # its pause says nothing in the run's content
    # Agno's `tool_hooks` (the Agent's, then the tool's own): middleware around each call, the first
    # outermost; each is given what it names of `function_name`/`name`, `function_call`/`function`/
    # `func` (the next step of the chain, to call with the arguments), `arguments`/`args` and
    # `run_context`, and returns the result.
    hooks: tuple[Callable[..., Any], ...] = ()
    hook_context: Any = None  # the run's RunContext, for hooks that name `run_context`

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pauses(self) -> bool:
        """Whether a call of it waits for the caller (`continue_run`)."""
        return self.requires_confirmation or self.requires_user_input or self.external_execution

    @property
    def entrypoint(self) -> Callable[..., Any]:
        """The function itself (Agno's `Function.entrypoint`)."""
        return self.fn

    def for_run(self, run_context: Any, hooks: tuple[Callable[..., Any], ...] = ()) -> Tool:
        """This tool for one run: its context parameters filled from `run_context` (a RunContext),
        and `hooks` (the Agent's `tool_hooks`) around its own."""
        tool = self
        if hooks or self.hooks:
            tool = dataclasses.replace(self, hooks=(*hooks, *self.hooks), hook_context=run_context)
        if not self.context_parameters:
            return tool
        values = {"run_context": run_context, "session_state": run_context.session_state}
        bound = functools.partial(self.fn, **{name: values[name] for name in self.context_parameters})
        return dataclasses.replace(tool, fn=bound, context_parameters=())

    @property
    def is_async(self) -> bool:
        """An `async def` tool (or async generator), or one with an `async def` hook: the async loop
        awaits it; the sync loop runs it to the end."""
        return (
            inspect.iscoroutinefunction(self.fn)
            or inspect.isasyncgenfunction(self.fn)
            or any(inspect.iscoroutinefunction(hook) for hook in self.hooks)
        )

    def call(self, arguments: dict[str, Any]) -> str:
        return self.call_with_events(arguments)[0]

    async def acall(self, arguments: dict[str, Any]) -> str:
        return (await self.acall_with_events(arguments))[0]

    def call_with_events(self, arguments: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """The tool's result as text, and the events it yielded (a generator tool: Agno's
        `CustomEvent`s among its output; the rest of its output is its result)."""
        result = self._through_hooks(arguments)
        if inspect.iscoroutine(result):
            result = _run_to_the_end(result)
        if inspect.isasyncgen(result):
            return _yielded(_run_to_the_end(_drained(result)))
        if inspect.isgenerator(result):
            return _yielded(list(result))
        return _as_text(result), ()

    async def acall_with_events(self, arguments: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        result = await self._athrough_hooks(arguments) if self.hooks else self.fn(**arguments)
        if inspect.isawaitable(result):
            result = await result
        if inspect.isasyncgen(result):
            return _yielded(await _drained(result))
        if inspect.isgenerator(result):
            return _yielded(list(result))
        return _as_text(result), ()

    def _through_hooks(self, arguments: dict[str, Any]) -> Any:
        """The call through its hooks, the first outermost (all sync: see `is_async`)."""
        call: Callable[..., Any] = self.fn
        for hook in reversed(self.hooks):
            call = functools.partial(_hook_step, hook, call, self)
        return call(**arguments)

    async def _athrough_hooks(self, arguments: dict[str, Any]) -> Any:
        call: Callable[..., Any] = self.fn
        for hook in reversed(self.hooks):
            call = functools.partial(_ahook_step, hook, call, self)
        return await _awaited(call(**arguments))


def _hook_arguments(
    hook: Callable[..., Any], tool: Tool, step: Callable[..., Any], arguments: dict[str, Any]
) -> dict[str, Any]:
    offered = {
        "function_name": tool.name,
        "name": tool.name,
        "function_call": step,
        "function": step,
        "func": step,
        "arguments": arguments,
        "args": arguments,
        "run_context": tool.hook_context,
    }
    names = inspect.signature(hook).parameters
    return {name: value for name, value in offered.items() if name in names}


def _hook_step(hook: Callable[..., Any], inner: Callable[..., Any], tool: Tool, **arguments: Any) -> Any:
    return hook(**_hook_arguments(hook, tool, inner, arguments))


async def _ahook_step(
    hook: Callable[..., Any], inner: Callable[..., Any], tool: Tool, **arguments: Any
) -> Any:
    async def step(**given: Any) -> Any:
        return await _awaited(inner(**given))

    return await _awaited(hook(**_hook_arguments(hook, tool, step, arguments)))


async def _awaited(value: Any) -> Any:
    """A sync hook commonly returns `function_call(...)` as is: in an async run, a coroutine to await."""
    while inspect.isawaitable(value):
        value = await value
    return value


async def _drained(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


def _yielded(items: list[Any]) -> tuple[str, tuple[Any, ...]]:
    """A generator tool's output: its events apart, the rest joined as its result."""
    events = tuple(item for item in items if is_custom_event(item))
    text = "".join(str(item) for item in items if not is_custom_event(item))
    return text, events


def _as_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, default=str)


def _run_to_the_end(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """A coroutine run from sync code: on this thread, or on one of its own when this thread's event
    loop is busy running the caller."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = asyncio.run(coroutine)
        except BaseException as error:  # handed back to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="async-tool")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def _json_schema(annotation: Any) -> dict[str, Any]:
    """A parameter's JSON schema: its type, and an array's item type (`list[str]`)."""
    origin = getattr(annotation, "__origin__", annotation)
    schema: dict[str, Any] = {"type": _JSON_TYPES.get(origin, "string")}
    if schema["type"] == "array":
        items = getattr(annotation, "__args__", None) or (str,)
        schema["items"] = _json_schema(items[0])
    return schema


def tool_from_function(
    fn: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> Tool:
    """A Tool from a plain function: its name, docstring and annotated parameters (or the `name` and
    `description` given)."""
    try:
        hints = get_type_hints(fn)
    except Exception:  # an annotation that does not resolve (a name the tool's module lacks): strings
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    context: list[str] = []
    for parameter, param in inspect.signature(fn).parameters.items():
        if parameter in CONTEXT_PARAMETERS:
            context.append(parameter)
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        properties[parameter] = _json_schema(hints.get(parameter, str))
        if param.default is inspect.Parameter.empty:
            required.append(parameter)
    spec = ToolSpec(
        name=name or fn.__name__,
        description=description or inspect.getdoc(fn) or fn.__name__,
        parameters={"type": "object", "properties": properties, "required": required},
    )
    return Tool(spec=spec, fn=fn, context_parameters=tuple(context))


def as_tool(item: Tool | Callable[..., Any]) -> Tool:
    return item if isinstance(item, Tool) else tool_from_function(item)
