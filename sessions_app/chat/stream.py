"""The SSE stream of one chat run: claim it and drive the agent, or replay what is stored.

Frames: `delta` (escaped text to append), `chip` (a discreet note of a memory the model wrote),
`final` (the finished reply, Markdown rendered and sanitised, with out-of-band swaps for the
memory panel and the sidebar) and `done`, always last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.template.loader import render_to_string

from agentapp import app_agent
from agentapp.agent import MemoryUpdated, RunCompleted, RunContent, RunOutputEvent
from agentapp.database import connection_give_back

from .. import selectors
from ..models import Run
from .panel import chip, memory_panel
from .sse import delta_frame, done_frame, sse_frame

# How often the stream looks for a Stop pressed elsewhere (one indexed query each time).
CANCEL_POLL_SECONDS = 0.4
# A connection that finds the run already running waits this long for it to finish, then shows what is stored.
REPLAY_WAIT_SECONDS = 300.0


async def run_stream(*, run: Run) -> AsyncIterator[bytes]:
    agent = app_agent.agent()
    events = await agent.arun_pending(run.run_id, stream=True)
    if events is None:
        await _wait_until_finished(run.pk)
    else:
        async for frame in _drive(events, run_pk=run.pk):
            yield frame
    yield await sync_to_async(final_frame)(run_pk=run.pk, after_run=events is not None)
    yield done_frame()


async def _drive(events: AsyncIterator[RunOutputEvent], *, run_pk: int) -> AsyncIterator[bytes]:
    """The agent's events as frames. A Stop (the run marked cancelled) or a closed connection ends the run.

    The next event is awaited in a task so that a Stop is noticed even while the model is silent.
    """
    task: asyncio.Future[RunOutputEvent] | None = None
    last_check = time.monotonic()
    try:
        while True:
            task = asyncio.ensure_future(anext(events))
            while not (await asyncio.wait({task}, timeout=CANCEL_POLL_SECONDS))[0]:
                # The model is silent (thinking, or a tool is running): look for a Stop meanwhile.
                if await _cancelled(run_pk):
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
            if not isinstance(event, RunCompleted) and time.monotonic() - last_check >= CANCEL_POLL_SECONDS:
                last_check = time.monotonic()
                if await _cancelled(run_pk):
                    return  # `finally` closes the agent's generator, which ends the run as cancelled
    finally:
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        await events.aclose()  # type: ignore[attr-defined]


def _event_frame(event: RunOutputEvent) -> bytes | None:
    if isinstance(event, RunContent):
        return delta_frame(event.content)
    if isinstance(event, MemoryUpdated):
        return sse_frame("chip", chip(event.action, event.memory))
    return None


def _run_in(run_pk: int, statuses: list[str]) -> bool:
    """A poll of the run's status; the stream goes on waiting after it, so it holds no connection."""
    try:
        return Run.objects.filter(pk=run_pk, status__in=statuses).exists()
    finally:
        connection_give_back()


async def _cancelled(run_pk: int) -> bool:
    return await sync_to_async(_run_in)(run_pk, [Run.Status.CANCELLED])


async def _wait_until_finished(run_pk: int) -> None:
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    terminal = [str(status) for status in Run.TERMINAL]
    while time.monotonic() < deadline:
        if await sync_to_async(_run_in)(run_pk, terminal):
            return
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
