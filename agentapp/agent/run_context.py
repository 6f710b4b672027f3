"""What a run's tools and callable instructions may read and change: Agno's `RunContext`."""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentapp.llm.types import ToolSpec

from .tools import Tool


@dataclass
class RunContext:
    """The run's ids and its session state; a tool that changes `session_state` has the change saved
    with the run."""

    run_id: str
    session_id: str
    user_id: str
    session_state: dict[str, Any] = field(default_factory=dict)
    # What the caller gave the run (Agno's `run(dependencies=, metadata=)`), for its tools to read.
    dependencies: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    output_schema: Any = None  # the run's (Agno's), a pydantic model class or a JSON schema


# The per-run settings `run()` takes (Agno's), over the Agent's for that run only.
RUN_SETTING_OVERRIDES = ("add_history_to_context", "add_session_state_to_context", "debug_mode")


@dataclass(frozen=True)
class RunAsked:
    """What one `run()` call asked beyond its message: its session state, settings for this run only,
    dependencies and metadata."""

    session_state: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    dependencies: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    output_schema: Any = None

    @classmethod
    def of(cls, session_state: dict[str, Any] | None = None, **options: Any) -> RunAsked:
        given = {name: options.pop(name, None) for name in RUN_SETTING_OVERRIDES}
        settings = {name: value for name, value in given.items() if value is not None}
        return cls(session_state=session_state, settings=settings, **options)


def merged_state(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Later layers over earlier ones, nested dicts merged key by key (Agno's precedence: the run's
    state over the stored one over the Agent's default)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            _merge_into(merged, copy.deepcopy(dict(layer)))
    return merged


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = value


class _KnownKeys(string.Formatter):
    """`{key}` from the state; any other braces (JSON, code, an unknown key) are left as written."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def fill(self, text: str) -> str:
        out = []
        for literal, name, spec, conversion in self.parse(text):
            out.append(literal)
            if name is None:
                continue
            if name in self.values and not spec and not conversion:
                out.append(str(self.values[name]))
            else:
                shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                out.append("{" + shown + "}")
        return "".join(out)


def fill_placeholders(text: str, state: Mapping[str, Any]) -> str:
    """Agno's `{key}` placeholders in instructions, filled from the session state."""
    if "{" not in text or not state:
        return text
    try:
        return _KnownKeys(state).fill(text)
    except ValueError:  # unbalanced braces: not a template at all
        return text


def session_state_tool(run_context: RunContext) -> Tool:
    """Agentic state (`enable_agentic_state`): the model merges changes into the session state."""

    def update_session_state(session_state_updates: dict[str, Any]) -> str:
        if not isinstance(session_state_updates, dict):
            return "Error: session_state_updates must be a JSON object."
        _merge_into(run_context.session_state, copy.deepcopy(session_state_updates))
        return "Session state updated: " + json.dumps(run_context.session_state, default=str)

    spec = ToolSpec(
        name="update_session_state",
        description=(
            "Change the session state: the keys given replace (or, for objects, merge into) those stored."
        ),
        parameters={
            "type": "object",
            "properties": {"session_state_updates": {"type": "object", "description": "The keys to set."}},
            "required": ["session_state_updates"],
        },
    )
    return Tool(spec, update_session_state)
