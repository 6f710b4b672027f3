"""Tools the model may call: a spec the model sees and a function the loop runs."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, get_type_hints

from agentapp.llm.types import ToolSpec

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
# Parameters the run fills in, never the model (Agno's): the run's context, or its session state alone.
CONTEXT_PARAMETERS = ("run_context", "session_state")


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    fn: Callable[..., Any]
    context_parameters: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    def for_run(self, run_context: Any) -> Tool:
        """This tool with its context parameters filled from `run_context` (a RunContext)."""
        if not self.context_parameters:
            return self
        values = {"run_context": run_context, "session_state": run_context.session_state}
        bound = functools.partial(self.fn, **{name: values[name] for name in self.context_parameters})
        return Tool(self.spec, bound)

    @property
    def is_async(self) -> bool:
        """An `async def` tool: the async loop awaits it; the sync loop runs it to the end."""
        return inspect.iscoroutinefunction(self.fn)

    def call(self, arguments: dict[str, Any]) -> str:
        result = self.fn(**arguments)
        if inspect.iscoroutine(result):
            result = _run_to_the_end(result)
        return _as_text(result)

    async def acall(self, arguments: dict[str, Any]) -> str:
        result = self.fn(**arguments)
        if inspect.isawaitable(result):
            result = await result
        return _as_text(result)


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


def tool_from_function(fn: Callable[..., Any]) -> Tool:
    """A Tool from a plain function: its name, docstring and annotated parameters."""
    try:
        hints = get_type_hints(fn)
    except Exception:  # an annotation that does not resolve (a name the tool's module lacks): strings
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    context: list[str] = []
    for name, param in inspect.signature(fn).parameters.items():
        if name in CONTEXT_PARAMETERS:
            context.append(name)
            continue
        annotation = hints.get(name, str)
        origin = getattr(annotation, "__origin__", annotation)
        properties[name] = {"type": _JSON_TYPES.get(origin, "string")}
        if param.default is inspect.Parameter.empty:
            required.append(name)
    spec = ToolSpec(
        name=fn.__name__,
        description=inspect.getdoc(fn) or fn.__name__,
        parameters={"type": "object", "properties": properties, "required": required},
    )
    return Tool(spec=spec, fn=fn, context_parameters=tuple(context))


def as_tool(item: Tool | Callable[..., Any]) -> Tool:
    return item if isinstance(item, Tool) else tool_from_function(item)
