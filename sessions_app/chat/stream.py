"""The SSE stream of one chat run: claim it and drive the agent, or replay what is stored.

Frames: `delta` (escaped text to append), `chip` (a discreet note of a memory the model wrote),
`final` (the finished reply, Markdown rendered and sanitised, with out-of-band swaps for the
memory panel and the sidebar) and `done`, always last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator

from asgiref.sync import sync_to_async
from django.db import DatabaseError
from django.template.loader import render_to_string

from agentapp import app_agent
from agentapp.agent import MemoryUpdated, RunCompleted, RunContent, RunOutputEvent
from agentapp.database import connection_give_back
from agentapp.observability import metrics

from .. import selectors
from ..models import Run
from .panel import chip, memory_panel
from .sse import delta_frame, done_frame, sse_frame

# How often the stream looks for a Stop pressed elsewhere (one indexed query each time), and how
# often it wakes up while the model is silent to see what that look found.
CANCEL_POLL_SECONDS = 0.4
WAKE_SECONDS = 0.1
# A connection that finds the run already running waits this long for it to finish, then shows what is stored.
REPLAY_WAIT_SECONDS = 300.0


async def run_stream(*, run: Run) -> AsyncIterator[bytes]:
    agent = app_agent.agent()
    events = await agent.arun_pending(run.run_id, stream=True)
    if events is None:
        await _wait_until_finished(run.pk)
    else:
        with metrics.streaming():
            async for frame in _drive(events, run_pk=run.pk):
                yield frame
    yield await sync_to_async(final_frame)(run_pk=run.pk, after_run=events is not None)
    yield done_frame()


class _StopWatch:
    """Looks for a Stop pressed elsewhere (the run marked cancelled) every CANCEL_POLL_SECONDS, one
    look at a time, in a thread of its own: the stream never waits on the database, so a database
    that is away for a while leaves the reply streaming (a look that fails counts as no Stop)."""

    def __init__(self, run_pk: int) -> None:
        self.run_pk = run_pk
        self.stopped = False
        self._look: asyncio.Future[bool] | None = None
        self._last = time.monotonic()

    def poll(self) -> None:
        if self._look is not None or time.monotonic() - self._last < CANCEL_POLL_SECONDS:
            return
        self._last = time.monotonic()
        look = sync_to_async(_run_in, thread_sensitive=False)(self.run_pk, [Run.Status.CANCELLED])
        self._look = asyncio.ensure_future(look)
        self._look.add_done_callback(self._looked)

    def _looked(self, look: asyncio.Future[bool]) -> None:
        self._look = None
        if not look.cancelled() and look.exception() is None and look.result():
            self.stopped = True

    def close(self) -> None:
        if self._look is not None:
            self._look.cancel()


async def _drive(events: AsyncGenerator[RunOutputEvent, None], *, run_pk: int) -> AsyncIterator[bytes]:
    """The agent's events as frames. A Stop (the run marked cancelled) or a closed connection ends the run.

    The next event is awaited in a task so that a Stop is noticed even while the model is silent.
    """
    watch = _StopWatch(run_pk)
    task: asyncio.Future[RunOutputEvent] | None = None
    try:
        while True:
            task = asyncio.ensure_future(anext(events))
            while not (await asyncio.wait({task}, timeout=WAKE_SECONDS))[0]:
                # The model is silent (thinking, or a tool is running): look for a Stop meanwhile.
                watch.poll()
                if watch.stopped:
                    # Thrown into the agent at its await: its `finally` ends the run, keeping the text so far.
                    task.cancel()
                    await asyncio.wait({task})
                    return
            if task.cancelled():
                return
            try:
                event = task.result()
            except StopAsyncIteration:
                return
            task = None
            frame = _event_frame(event)
            if frame:
                yield frame
            watch.poll()
            if watch.stopped and not isinstance(event, RunCompleted):
                return  # `finally` closes the agent's generator, which ends the run as cancelled
    finally:
        watch.close()
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        await events.aclose()


def _event_frame(event: RunOutputEvent) -> bytes | None:
    if isinstance(event, RunContent):
        return delta_frame(event.content)
    if isinstance(event, MemoryUpdated):
        return sse_frame("chip", chip(event.action, event.memory))
    return None


def _run_in(run_pk: int, statuses: list[str]) -> bool:
    """A look at the run's status; the stream goes on waiting after it, so it holds no connection."""
    try:
        return Run.objects.filter(pk=run_pk, status__in=statuses).exists()
    finally:
        connection_give_back()


async def _wait_until_finished(run_pk: int) -> None:
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    terminal = [str(status) for status in Run.TERMINAL]
    while time.monotonic() < deadline:
        try:
            if await sync_to_async(_run_in)(run_pk, terminal):
                return
        except DatabaseError:  # away for a moment: look again
            pass
        await asyncio.sleep(0.5)


def final_frame(*, run_pk: int, after_run: bool) -> bytes:
    """The reply as stored, rendered; after a run it also refreshes the memory panel and the sidebar entry."""
    run = selectors.run_for_render(run_pk=run_pk)
    context = {
        "run": run,
        "is_last": selectors.session_is_last_run(run=run),
        "oob": after_run,
    }
    if after_run:
        context.update(memory_panel(user_pk=run.user_id, last_run=run))
        item = selectors.session_for_sidebar(session_pk=run.session_id)
        context["item"] = item
        context["title_poll"] = None if item is None or item.title else 1  # a worker is writing it
    return sse_frame("final", render_to_string("sessions_app/_final.html", context))
