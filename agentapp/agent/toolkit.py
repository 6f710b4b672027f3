"""Agno's `Toolkit` and `@tool` (`agno.tools`): a named set of tools, and a function made a tool.

`Agent(tools=[...])` takes a plain function, a `Tool` (what `@tool` makes), a `Toolkit` of ours or of
Agno's (anything with Agno's `functions`, e.g. `agno.tools.shell.ShellTools`), and `MemoryTools`.
Of Agno's human-in-the-loop, `requires_confirmation` is served (the run pauses, `continue_run` goes
on); the rest and the hooks (`external_execution`, `requires_user_input`, `pre_hook`, ...) are not:
asking for them is refused, never silently dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any, overload

from .tools import Tool, as_tool, tool_from_function

# Agno's tool options that change who runs a tool or when; not served here.
NOT_SERVED = (
    "requires_user_input",
    "user_input_fields",
    "external_execution",
    "external_execution_silent",
    "stop_after_tool_call",
    "pre_hook",
    "post_hook",
    "tool_hooks",
)


def _refuse(options: dict[str, Any]) -> None:
    asked = sorted(name for name, value in options.items() if value)
    if asked:
        raise NotImplementedError(f"{', '.join(asked)}: not served here (human-in-the-loop and tool hooks)")


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
        _refuse(
            {
                "external_execution_required_tools": external_execution_required_tools,
                "stop_after_tool_call_tools": stop_after_tool_call_tools,
            }
        )
        self.name, self.id = name, id or name
        self.instructions, self.add_instructions = instructions, add_instructions
        self.include_tools, self.exclude_tools = include_tools, exclude_tools
        self.requires_confirmation_tools = list(requires_confirmation_tools or [])
        self.tools: list[Callable[..., Any] | Tool] = list(tools or [])
        self.functions: dict[str, Tool] = {}
        if auto_register and self.tools:
            self._register_tools()

    def _register_tools(self) -> None:
        made = [self._confirmed(as_tool(item)) for item in self.tools]
        names = {t.name for t in made}
        named = (
            (self.include_tools, "include_tools"),
            (self.exclude_tools, "exclude_tools"),
            (self.requires_confirmation_tools, "requires_confirmation_tools"),
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
            made = dataclasses.replace(
                tool_from_function(made.fn, name=name), requires_confirmation=made.requires_confirmation
            )
        self.functions[made.name] = self._confirmed(made)

    def _confirmed(self, made: Tool) -> Tool:
        """The tool, paused for confirmation when the toolkit names it in `requires_confirmation_tools`."""
        if made.name in self.requires_confirmation_tools:
            return dataclasses.replace(made, requires_confirmation=True)
        return made

    def get_functions(self) -> dict[str, Tool]:
        return dict(self.functions)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} functions={list(self.functions)}>"


def _of_agno_function(function: Any) -> Tool:
    """A Tool of an Agno `Function` (its `entrypoint`, `name`, `description`, `instructions`)."""
    description = function.description or None
    made = tool_from_function(function.entrypoint, name=function.name, description=description)
    own = function.instructions if getattr(function, "add_instructions", False) else None
    if isinstance(own, str) and own:
        made = dataclasses.replace(made, instructions=own)
    if getattr(function, "requires_confirmation", False) is True:
        made = dataclasses.replace(made, requires_confirmation=True)
    return made


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
    are accepted, and `requires_confirmation`; the rest of human-in-the-loop and hooks are refused."""
    _refuse({key: value for key, value in options.items() if key in NOT_SERVED})

    instructions = options.get("instructions") if options.get("add_instructions", True) else None

    confirm = bool(options.get("requires_confirmation"))

    def make(fn: Callable[..., Any]) -> Tool:
        made = tool_from_function(fn, name=name, description=description)
        return dataclasses.replace(made, instructions=instructions or None, requires_confirmation=confirm)

    return make(function) if function is not None else make


__all__ = ["Toolkit", "expand_tools", "tool", "tools_of"]
