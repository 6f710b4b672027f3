"""What a caller gets of a run's events: the RunOutput alone, the stream as `run(stream=True)` shows it,
the async stream `arun(stream=True)` returns, and the reply printed for a person (`print_response`).

Each is written once, over the async events of `run.driver.drive`; a sync run iterates them at once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from contextlib import aclosing
from typing import Any, TextIO

from ..events import (
    CustomEvent,
    RunCancelled,
    RunCompleted,
    RunContent,
    RunError,
    RunOutput,
    RunOutputEvent,
    RunPaused,
)
from ..settings import AgentSettings
from ..twins import async_twin

_ENDINGS = (RunCompleted, RunError, RunCancelled, RunPaused)
# What a stream shows without stream_events: the reply's text, a tool's own events (as Agno's), and
# how the run ended if not well, or that it waits for its caller (as Agno's, RunPaused always).
_ALWAYS_SHOWN = (RunContent, CustomEvent, RunError, RunCancelled, RunPaused)


async def final_output(events: AsyncGenerator[RunOutputEvent, None]) -> RunOutput:
    """The run's outcome, once every event has passed."""
    output: RunOutput | None = None
    async with aclosing(events):  # closed too when the caller stops early
        async for event in events:
            if isinstance(event, _ENDINGS):
                output = event.output
    if output is None:  # pragma: no cover - the driver always ends the run
        raise RuntimeError("the run ended without an outcome")
    return output


async def shown(
    events: AsyncGenerator[RunOutputEvent, None], *, stream_events: bool, yield_run_output: bool
) -> AsyncGenerator[RunOutputEvent | RunOutput, None]:
    """The stream as a caller sees it: every event with `stream_events`, else the reply's text and an
    unhappy ending; with `yield_run_output`, the RunOutput last."""
    output: RunOutput | None = None
    async with aclosing(events):
        async for event in events:
            if isinstance(event, _ENDINGS):
                output = event.output
            if stream_events or isinstance(event, _ALWAYS_SHOWN):
                yield event
    if yield_run_output and output is not None:
        yield output


class AsyncRunStream:
    """What `arun(stream=True)` returns: iterate it with `async for` (the run begins on the first
    step), or await it for the same iterator with the run already begun (a refused session id is
    raised there)."""

    def __init__(self, begin: Callable[[], Awaitable[AsyncIterator[RunOutputEvent | RunOutput]]]) -> None:
        self._begin = begin

    def __await__(self) -> Generator[Any, None, AsyncIterator[RunOutputEvent | RunOutput]]:
        return self._begin().__await__()

    def __aiter__(self) -> AsyncIterator[RunOutputEvent | RunOutput]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[RunOutputEvent | RunOutput]:
        events = await self._begin()
        async for event in events:
            yield event


class Printing:
    """A part of `Agent`: a run's reply printed for a person."""

    settings: AgentSettings
    run: Callable[..., Any]

    def print_response(
        self,
        input: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        stream: bool = False,
        markdown: bool | None = None,
        file: TextIO | None = None,
        **run_options: Any,
    ) -> RunOutput:
        """Run a turn and print the reply (as it streams with stream=True); with markdown (the
        Agent's `markdown` by default), rendered for the terminal by `rich` where it is installed.
        The other keywords are `run()`'s (`session_state`, `metadata`, `add_history_to_context`, ...)."""
        out = file if file is not None else sys.stdout
        run_options.pop("stream_events", None)  # what is printed is the reply either way
        if not stream:
            output: RunOutput = self.run(input, user_id=user_id, session_id=session_id, **run_options)
            _print_reply(output, out, markdown=self.settings.markdown if markdown is None else markdown)
            return output
        run_options["yield_run_output"] = True
        items = self.run(input, user_id=user_id, session_id=session_id, stream=True, **run_options)
        final = _print_stream(items, out)
        if final.status != "completed":
            out.write(f"[{final.status}] {final.error or ''}\n")
        return final

    aprint_response = async_twin(print_response)


def _print_stream(items: Iterator[RunOutputEvent | RunOutput], out: TextIO) -> RunOutput:
    final: RunOutput | None = None
    for item in items:
        if isinstance(item, RunOutput):
            final = item
        elif isinstance(item, RunContent):
            out.write(item.content)
            out.flush()
    out.write("\n")
    if final is None:  # pragma: no cover - a stream always ends with its output here
        raise RuntimeError("the run ended without an outcome")
    return final


def shown_value(value: Any) -> str:
    """An output schema's value (a pydantic model or a dict) as indented JSON."""
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json(indent=2))
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _print_reply(output: RunOutput, out: TextIO, *, markdown: bool) -> None:
    if output.status != "completed":
        out.write(f"[{output.status}] {output.error or ''}\n")
        if not output.content:
            return
    if not isinstance(output.content, str):  # an output schema's value: shown as JSON, as Agno shows it
        out.write(shown_value(output.content) + "\n")
        return
    if markdown:
        try:
            from rich.console import Console
            from rich.markdown import Markdown
        except ImportError:  # rich is optional: the Markdown source reads well enough
            pass
        else:
            Console(file=out).print(Markdown(output.content))
            return
    out.write(output.content + "\n")
