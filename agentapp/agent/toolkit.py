"""Agno's `Toolkit` and `@tool` (`agno.tools`): a named set of tools, and a function made a tool.

`Agent(tools=[...])` takes a plain function, a `Tool` (what `@tool` makes), a `Toolkit` of ours or of
Agno's (anything with Agno's `functions`, e.g. `agno.tools.shell.ShellTools`), and `MemoryTools`.
Agno's human in the loop is served: `requires_confirmation`, `requires_user_input` (with
`user_input_fields`) and `external_execution` pause the run, `continue_run` goes on. The tool hooks
and `stop_after_tool_call` are not: asking for them is refused, never silently dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any, overload

from .requirements import GET_USER_INPUT
from .tools import Tool, as_tool, tool_from_function

# Agno's tool options that change when a tool runs; not served here.
NOT_SERVED = ("stop_after_tool_call", "pre_hook", "post_hook")
# Agno's ways a call waits for its caller: a tool has one at most (Agno's decorator says so).
PAUSES = ("requires_user_input", "requires_confirmation", "external_execution")


def _refuse(options: dict[str, Any]) -> None:
    asked = sorted(name for name, value in options.items() if value)
    if asked:
        raise NotImplementedError(f"{', '.join(asked)}: not served here (tool hooks)")


def _one_pause(options: dict[str, Any]) -> None:
    if sum(1 for name in PAUSES if options.get(name)) > 1:
        raise ValueError(
            "Only one of 'requires_user_input', 'requires_confirmation', or 'external_execution' "
            "can be set to True at the same time."
        )


def _pausing(made: Tool, options: dict[str, Any]) -> Tool:
    """The tool, waiting for its caller as Agno's options say (`requires_confirmation`,
    `requires_user_input` and its `user_input_fields`, `external_execution`): the fields the caller
    fills are not asked of the model."""
    _one_pause(options)
    fields = tuple(options.get("user_input_fields") or ())
    user_input = bool(options.get("requires_user_input")) or bool(fields)
    if fields:
        parameters = made.spec.parameters
        asked = {k: v for k, v in parameters.get("properties", {}).items() if k not in fields}
        required = [name for name in parameters.get("required", []) if name not in fields]
        spec = parameters | {"properties": asked, "required": required}
        made = dataclasses.replace(made, spec=dataclasses.replace(made.spec, parameters=spec))
    return dataclasses.replace(
        made,
        requires_confirmation=bool(options.get("requires_confirmation")),
        requires_user_input=user_input,
        user_input_fields=fields if user_input else (),
        external_execution=bool(options.get("external_execution")),
        external_execution_silent=bool(options.get("external_execution_silent")),
    )


class Toolkit:
    """Tools under one name, as Agno's: `Toolkit(name=, tools=[...], include_tools=, exclude_tools=)`,
    or a subclass that passes its own methods as `tools`. `functions` maps each name to its Tool."""

    def __init__(
        self,
        name: str = "toolkit",
        id: str | None = None,
        tools: Sequence[Callable[..., Any] | Tool] | None = None,
        instructions: str | None = None,
        add_instructions: bool = False,
        include_tools: list[str] | None = None,
        exclude_tools: list[str] | None = None,
        requires_confirmation_tools: list[str] | None = None,
        external_execution_required_tools: list[str] | None = None,
        stop_after_tool_call_tools: list[str] | None = None,
        show_result_tools: list[str] | None = None,
        cache_results: bool = False,
        cache_ttl: int = 3600,
        cache_dir: str | None = None,
        timeout: int | None = None,
        auto_register: bool = True,
    ) -> None:
        _refuse({"stop_after_tool_call_tools": stop_after_tool_call_tools})
        self.name, self.id = name, id or name
        self.instructions, self.add_instructions = instructions, add_instructions
        self.include_tools, self.exclude_tools = include_tools, exclude_tools
        self.requires_confirmation_tools = list(requires_confirmation_tools or [])
        self.external_execution_required_tools = list(external_execution_required_tools or [])
        self.tools: list[Callable[..., Any] | Tool] = list(tools or [])
        self.functions: dict[str, Tool] = {}
        if auto_register and self.tools:
            self._register_tools()

    def _register_tools(self) -> None:
        made = [self._paused(as_tool(item)) for item in self.tools]
        names = {t.name for t in made}
        named = (
            (self.include_tools, "include_tools"),
            (self.exclude_tools, "exclude_tools"),
            (self.requires_confirmation_tools, "requires_confirmation_tools"),
            (self.external_execution_required_tools, "external_execution_required_tools"),
        )
        for wanted, option in named:
            unknown = sorted(set(wanted or ()) - names)
            if unknown:
                raise ValueError(
                    f"{option} names tools the toolkit {self.name!r} lacks: {', '.join(unknown)}"
                )
        kept = [
            t
            for t in made
            if (self.include_tools is None or t.name in self.include_tools)
            and t.name not in (self.exclude_tools or ())
        ]
        if kept and self.add_instructions and self.instructions:  # the toolkit's guidance, said once
            said = "\n\n".join(part for part in (kept[-1].instructions, self.instructions) if part)
            kept[-1] = dataclasses.replace(kept[-1], instructions=said)
        self.functions = {t.name: t for t in kept}

    def register(self, function: Callable[..., Any] | Tool, name: str | None = None) -> None:
        """Add one tool (Agno's `register`)."""
        made = as_tool(function)
        if name is not None:
            made = dataclasses.replace(made, spec=dataclasses.replace(made.spec, name=name))
        self.functions[made.name] = self._paused(made)

    def _paused(self, made: Tool) -> Tool:
        """The tool, waiting for its caller when the toolkit names it in `requires_confirmation_tools`
        or `external_execution_required_tools` (the tool's own options first, as Agno's)."""
        if made.pauses:
            return made
        if made.name in self.requires_confirmation_tools:
            return dataclasses.replace(made, requires_confirmation=True)
        if made.name in self.external_execution_required_tools:
            return dataclasses.replace(made, external_execution=True)
        return made

    def get_functions(self) -> dict[str, Tool]:
        return dict(self.functions)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} functions={list(self.functions)}>"


def _of_agno_function(function: Any) -> Tool:
    """A Tool of an Agno `Function` (its `entrypoint`, `name`, `description`, `instructions`)."""
    if function.name == "ask_user":  # Agno pauses it by its name, and its entrypoint is a stub
        raise NotImplementedError("ask_user (Agno's UserFeedbackTools): not served here")
    description = function.description or None
    made = tool_from_function(function.entrypoint, name=function.name, description=description)
    own = function.instructions if getattr(function, "add_instructions", False) else None
    if isinstance(own, str) and own:
        made = dataclasses.replace(made, instructions=own)
    names = (*PAUSES, "user_input_fields", "external_execution_silent")
    options = {name: value for name in names if (value := getattr(function, name, None))}
    if function.name == GET_USER_INPUT:  # UserControlFlowTools': the model asks, the caller answers
        options = {"requires_user_input": True}
    return _pausing(made, options)


def tools_of(item: Any) -> list[Tool]:
    """The Tools an entry of `Agent(tools=[...])` stands for: a toolkit's every function, else one."""
    functions = getattr(item, "functions", None)
    if isinstance(functions, dict) and not callable(item):
        if not functions:  # an Agno toolkit not registered yet: its `tools`
            return [made for entry in getattr(item, "tools", None) or () for made in tools_of(entry)]
        made = [f if isinstance(f, Tool) else _of_agno_function(f) for f in functions.values()]
        guidance = getattr(item, "instructions", None) if getattr(item, "add_instructions", False) else None
        if made and isinstance(guidance, str) and not isinstance(item, Toolkit):  # Agno's toolkit: once
            made[-1] = dataclasses.replace(made[-1], instructions=made[-1].instructions or guidance)
        return made
    if not isinstance(item, Tool) and callable(getattr(item, "entrypoint", None)):
        return [_of_agno_function(item)]
    return [as_tool(item)]


def expand_tools(items: Iterable[Any]) -> tuple[Tool, ...]:
    return tuple(made for item in items for made in tools_of(item))


@overload
def tool(function: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None, **options: Any
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    **options: Any,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Agno's `@tool` and `@tool(name=, description=)`: the function as a Tool (its `entrypoint` is
    the function). Display and caching options (`show_result`, `cache_results`, `instructions`, ...)
    are accepted, and human in the loop (`requires_confirmation`, `requires_user_input` and
    `user_input_fields`, `external_execution`) and `tool_hooks`; `pre_hook` / `post_hook` are refused."""
    _refuse({key: value for key, value in options.items() if key in NOT_SERVED})
    _one_pause(options)  # as Agno's: refused before there is a function

    instructions = options.get("instructions") if options.get("add_instructions", True) else None

    def make(fn: Callable[..., Any]) -> Tool:
        made = tool_from_function(fn, name=name, description=description)
        hooks = tuple(options.get("tool_hooks") or ())
        made = dataclasses.replace(made, instructions=instructions or None, hooks=hooks)
        return _pausing(made, options)

    return make(function) if function is not None else make


__all__ = ["Toolkit", "expand_tools", "tool", "tools_of"]
