"""The run driver: one body (`drive`) for sync and async runs, with the one try/finally that always ends
a run, whatever happens (an error, a stop asked by `cancel_run`, a consumer that stops listening).

The body is an async generator; how it waits is its `Way`. `THREADED` (async callers) awaits the model
and runs storage work on a thread. `INLINE` (sync callers) does everything at once in the caller's
thread, where a sync caller's storage must be used: nothing in it ever waits, so `iterate` and
`result` step through the body from sync code without an event loop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from contextlib import aclosing, closing
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from asgiref.sync import sync_to_async

from agentapp.llm.types import Message

from ..events import RunCancelled, RunCompleted, RunError, RunOutputEvent, RunStarted
from ..loop import LoopEvent, Settled, ToolOutcome, arun_loop, run_loop
from ..tools import Tool
from . import cancel
from .alongside import AskedAhead, MemoryAlongside
from .turn import Turn

logger = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")


class Way(Protocol):
    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn` (storage work) done in the way's thread."""
        ...

    async def prepare(self, turn: Turn) -> tuple[tuple[Message, ...], list[Tool]]: ...

    def loop(
        self, turn: Turn, messages: tuple[Message, ...], tools: list[Tool], *, stream: bool
    ) -> AsyncGenerator[LoopEvent, None]: ...

    async def handle(self, turn: Turn, event: LoopEvent) -> list[RunOutputEvent]: ...

    def each(self, items: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
        """The items `items()` makes, the work between them done in the way's thread."""
        ...

    def launch(self, asked: AskedAhead) -> None:
        """Start a request asked ahead: on a thread (sync callers) or a task (async ones)."""
        ...


class _Inline:
    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return fn(*args, **kwargs)

    async def prepare(self, turn: Turn) -> tuple[tuple[Message, ...], list[Tool]]:
        return turn.prepare()

    def loop(
        self, turn: Turn, messages: tuple[Message, ...], tools: list[Tool], *, stream: bool
    ) -> AsyncGenerator[LoopEvent, None]:
        rounds = turn.settings.max_tool_rounds
        return _at_once(
            run_loop(turn.model, messages, tools, stream=stream, max_tool_rounds=rounds, settle=_settle(turn))
        )

    async def handle(self, turn: Turn, event: LoopEvent) -> list[RunOutputEvent]:
        return turn.handle(event)

    def each(self, items: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
        return _at_once(items())

    def launch(self, asked: AskedAhead) -> None:
        asked.start_thread()


class _Threaded:
    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await sync_to_async(fn)(*args, **kwargs)

    async def prepare(self, turn: Turn) -> tuple[tuple[Message, ...], list[Tool]]:
        return await turn.aprepare()

    def loop(
        self, turn: Turn, messages: tuple[Message, ...], tools: list[Tool], *, stream: bool
    ) -> AsyncGenerator[LoopEvent, None]:
        rounds = turn.settings.max_tool_rounds
        return arun_loop(
            turn.model,
            messages,
            tools,
            stream=stream,
            max_tool_rounds=rounds,
            tool_runner=_tool_runner,
            settle=_settle(turn),
        )

    async def handle(self, turn: Turn, event: LoopEvent) -> list[RunOutputEvent]:
        # Most events touch no storage: handle those here rather than hop to a thread for each.
        if turn.handling_touches_storage(event):
            return await sync_to_async(turn.handle)(event)
        return turn.handle(event)

    async def each(self, items: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
        # Follow-ups are short storage work or a separate model request: off the event loop, at once.
        for item in await sync_to_async(lambda: list(items()))():
            yield item

    def launch(self, asked: AskedAhead) -> None:
        asked.start_task()


def _opening(turn: Turn) -> RunOutputEvent:
    """RunStarted; RunContinued for a paused run going on."""
    run = turn.run
    return (
        turn.resumed.continued(run) if turn.resumed else RunStarted(run.run_id, run.session_id, run.user_id)
    )


def _settle(turn: Turn) -> tuple[Settled, ...]:
    """A paused run's calls, as its caller answered them (none for a new run)."""
    return turn.resumed.settle if turn.resumed else ()


INLINE: Way = _Inline()
THREADED: Way = _Threaded()


async def drive(
    make_turn: Callable[[], Turn],
    way: Way,
    *,
    stream: bool,
    followups: Callable[[Turn, MemoryAlongside | None], Iterator[RunOutputEvent]],
    alongside: Callable[[Turn], MemoryAlongside | None] = lambda turn: None,
) -> AsyncGenerator[RunOutputEvent, None]:
    """The run's events, from RunStarted to how it ended; after a completed reply, the events of the
    work after the run (`followups`), then RunCompleted. The turn is made at the first step.

    What `alongside` makes ready once the context is loaded (the memory update of a script's run) has
    its first request asked at once, alongside the reply; `followups` finishes it."""
    turn = make_turn()
    run_id = turn.run.run_id
    cancel.started(run_id)
    completed: RunCompleted | None = None
    stopped: RunCancelled | None = None
    crashed: RunError | None = None
    ahead: MemoryAlongside | None = None
    replied = False  # the reply completed and nothing stopped the body: the follow-ups come
    try:
        yield turn.keep(_opening(turn))
        messages, tools = await way.prepare(turn)
        ahead = await way.call(_ready_alongside, alongside, turn)
        if ahead is not None:
            way.launch(ahead.asked)
        events = way.loop(turn, messages, tools, stream=stream)
        async with aclosing(events):  # a cancelled run closes the model's stream at once
            async for event in events:
                for item in await way.handle(turn, event):
                    if isinstance(item, RunCompleted):
                        completed = item  # said after the work that follows the reply
                    else:
                        yield turn.keep(item)
                if cancel.asked(run_id) and not turn.finished:
                    stopped = await way.call(turn.cancel)
                    break
        replied = turn.completed and completed is not None
    except GeneratorExit:
        raise
    except Exception as exc:
        crashed = await way.call(turn.crash, exc)
    finally:
        cancel.ended(run_id)
        if not turn.finished:  # the consumer stopped listening: keep what was said
            await way.call(turn.cancel)
        if ahead is not None and not replied:
            await ahead.asked.abandon()  # no follow-ups: the reply did not complete, or no one listens
    ending = stopped or crashed
    if ending is not None:
        yield turn.keep(ending)
    elif turn.completed and completed is not None:
        if ahead is not None:
            await ahead.asked.settle()
        async for item in way.each(lambda: followups(turn, ahead)):
            yield turn.keep(item)
        yield turn.keep(completed)


def _ready_alongside(
    alongside: Callable[[Turn], MemoryAlongside | None], turn: Turn
) -> MemoryAlongside | None:
    try:
        return alongside(turn)
    except Exception:  # the reply goes ahead; the update is tried after it, as without the overlap
        logger.exception("run %s: the memory update could not start alongside the reply", turn.run.run_id)
        return None


# --- sync callers: INLINE bodies, stepped through without an event loop ------------------------------
def iterate(events: AsyncGenerator[T, None]) -> Generator[T, None, None]:
    """An INLINE async generator as a sync one; closing this one closes it (its `finally` runs)."""
    try:
        while True:
            try:
                item = result(events.__anext__())
            except StopAsyncIteration:
                return
            yield item
    finally:
        result(events.aclose())


def result(awaitable: Awaitable[T]) -> T:
    """What an INLINE awaitable gives, stepped through at once."""
    steps = awaitable.__await__()
    try:
        steps.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    with closing(steps):
        raise RuntimeError("an INLINE run waited on something: only a THREADED one may")


async def _at_once(items: Iterator[T]) -> AsyncGenerator[T, None]:
    """A sync iterator as an async generator that never waits (closing it closes `items`)."""
    try:
        for item in items:
            yield item
    finally:
        if isinstance(items, Generator):
            items.close()


async def _tool_runner(
    fn: Callable[[Tool, dict[str, Any]], ToolOutcome], tool: Tool, arguments: dict[str, Any]
) -> ToolOutcome:
    # thread_sensitive: tools may write through a storage bound to the caller's sync thread (the ORM).
    return await sync_to_async(fn, thread_sensitive=True)(tool, arguments)
