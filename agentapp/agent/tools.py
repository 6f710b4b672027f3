"""Tools the model may call: a spec the model sees and a function the loop runs."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from agentapp.llm.types import ToolSpec

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    fn: Callable[..., Any]

    @property
    def name(self) -> str:
        return self.spec.name

    def call(self, arguments: dict[str, Any]) -> str:
        result = self.fn(**arguments)
        if isinstance(result, str):
            return result
        return json.dumps(result, default=str)


def tool_from_function(fn: Callable[..., Any]) -> Tool:
    """A Tool from a plain function: its name, docstring and annotated parameters."""
    hints = get_type_hints(fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(fn).parameters.items():
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
    return Tool(spec=spec, fn=fn)


def as_tool(item: Tool | Callable[..., Any]) -> Tool:
    return item if isinstance(item, Tool) else tool_from_function(item)
