"""Agno's `pre_hooks` and `post_hooks`: callables run before the model is asked and after it answered.

A hook is given, by the names of its parameters, what Agno gives it (`run_input` or `run_output`,
`agent`, `session`, `run_context`, `user_id`, `metadata`, `debug_mode`; all of them to a `**kwargs`
hook). A guardrail object (Agno's `BaseGuardrail`: `check` / `async_check`) is its check. A hook
raising `InputCheckError` or `OutputCheckError` (ours, or Agno's own) ends the run with its message;
any other exception is logged and the run goes on, as in Agno.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync

from .errors import CheckError

logger = logging.getLogger(__name__)

Hook = Callable[..., Any]
_AGNO_CHECKS = frozenset({"InputCheckError", "OutputCheckError"})


@dataclass
class RunInput:
    """What a pre-hook reads, and may change (Agno's): `input_content`, the person's message. A change
    is what the model is sent; the stored message stays as it was said."""

    input_content: str

    def input_content_string(self) -> str:
        return self.input_content


def hooks_of(hooks: Iterable[Any] | None, *, async_mode: bool = False) -> tuple[Hook, ...]:
    """The callables to run: a guardrail object becomes its `check` (`async_check` for `arun`)."""
    found: list[Hook] = []
    for hook in hooks or ():
        if not inspect.isroutine(hook) and hasattr(hook, "check"):
            hook = hook.async_check if async_mode and hasattr(hook, "async_check") else hook.check
        if not callable(hook):
            raise TypeError(f"a hook must be callable, not {type(hook).__name__}")
        found.append(hook)
    return tuple(found)


def refuse_async_hooks(hooks: Iterable[Hook]) -> None:
    """Agno's rule: an `async def` hook needs `arun()`."""
    for hook in hooks:
        if inspect.iscoroutinefunction(hook):
            raise ValueError(f"Cannot use {_name(hook)} (an async hook) with `run()`. Use `arun()` instead.")


def is_check_error(exc: BaseException) -> bool:
    """A hook's refusal: ours, or Agno's own `InputCheckError` / `OutputCheckError`."""
    return isinstance(exc, CheckError) or (
        type(exc).__name__ in _AGNO_CHECKS and type(exc).__module__.startswith("agno")
    )


def check_message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc) or type(exc).__name__


def run_hooks(hooks: Iterable[Hook], offered: Mapping[str, Any], *, awaitable: bool = False) -> None:
    """Each hook in turn, given the arguments it names. `awaitable`: an `async def` hook is run to
    its end (from a thread of an async run)."""
    for number, hook in enumerate(hooks, start=1):
        arguments = _arguments(hook, offered)
        try:
            if inspect.iscoroutinefunction(hook):
                if not awaitable:
                    raise ValueError(f"Cannot use {_name(hook)} (an async hook) with `run()`.")
                async_to_sync(hook)(**arguments)
            else:
                hook(**arguments)
        except Exception as exc:
            if is_check_error(exc):
                raise
            logger.exception("hook #%d (%s) failed; the run goes on", number, _name(hook))


async def arun_hooks(hooks: Iterable[Hook], offered: Mapping[str, Any]) -> None:
    for number, hook in enumerate(hooks, start=1):
        arguments = _arguments(hook, offered)
        try:
            result = hook(**arguments)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            if is_check_error(exc):
                raise
            logger.exception("hook #%d (%s) failed; the run goes on", number, _name(hook))


def _arguments(hook: Hook, offered: Mapping[str, Any]) -> dict[str, Any]:
    """What the hook names of `offered` (all of it for `**kwargs`); a lazily made value (the session)
    is made only when asked for."""
    try:
        parameters = inspect.signature(hook).parameters
    except (TypeError, ValueError):
        wanted = set(offered)
    else:
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            wanted = set(offered)
        else:
            wanted = set(parameters) & set(offered)
    return {name: _value(offered[name]) for name in wanted}


class Lazy:
    """A value made the first time a hook asks for it (the session: a read of the storage)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make: Callable[[], Any] | None = make
        self._value: Any = None

    def value(self) -> Any:
        if self._make is not None:
            self._value, self._make = self._make(), None
        return self._value


def _value(value: Any) -> Any:
    return value.value() if isinstance(value, Lazy) else value


def _name(hook: Hook) -> str:
    return getattr(hook, "__name__", None) or type(hook).__name__
