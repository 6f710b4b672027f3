"""Tools the model may call: a spec the model sees and a function the loop runs."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
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

    def call(self, arguments: dict[str, Any]) -> str:
        result = self.fn(**arguments)
        if isinstance(result, str):
            return result
        return json.dumps(result, default=str)


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
