"""Driving a run in a task of the web process: the reply's text coalesced into frames, stored when
another process follows the run and at its end, stopped by a Stop from anywhere.

A closed connection no longer ends a run: only Stop (or the process dying, which the stale-run
sweep then settles) does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.db import connections

from agentapp.agent import RunContent, RunOutputEvent
from agentapp.agent.events import PYTHON_ONLY_EVENTS, event_payload
from agentapp.platform.database import connection_give_back

from .. import selectors, services
from ..models import Run
from .hub import ENDINGS, LiveRun, hub

logger = logging.getLogger(__name__)

# The reply's text goes out at most this often: a long reply costs a bounded number of frames
# (and of Markdown renders in the chat), and the first piece goes out at once.
COALESCE_SECONDS = 0.1
# While a stream in another process follows the run, its frames are stored this often.
WATCHED_STORE_SECONDS = 0.25
# Otherwise they are stored this often while it goes (a checkpoint, kept if the process dies).
CHECKPOINT_SECONDS = 1.0
# A Stop arrives by NOTIFY; this look at the run's status covers one missed while the listener reconnected.
CANCEL_POLL_SECONDS = 2.0


async def request_connection_give_back() -> None:
    """After a request started a run: the connection its thread used goes back to the pool now, not
    when the stream ends (the run's own work is on threads of its task)."""
    await sync_to_async(connection_give_back)()


def run_drive(
    *, run_id: str, events: AsyncIterator[RunOutputEvent], first: RunOutputEvent | None = None
) -> LiveRun:
    """Start driving a run (already claimed or begun) in a task of this process; streams follow it."""
    owner = hub()
    owner.listen()  # a Stop pressed elsewhere reaches this process by NOTIFY
    live = LiveRun(run_id)
    if first is not None:
        live.add(first.event, event_payload(first))
    owner.runs[run_id] = live
    owner.spawn(_own(live, events))
    return live


async def runs_hand_off() -> None:
    """This process stops (the ASGI lifespan's shutdown): what its runs said so far is stored and
    their leases let go, so a client resuming on another process gets it and the end at once, as
    when a process dies (services/leases.py)."""
    owner = hub()
    for live in list(owner.runs.values()):
        await _store(live)
    await owner.leases.close()


async def _own(live: LiveRun, events: AsyncIterator[RunOutputEvent]) -> None:
    owner = hub()
    await owner.leases.take(live.run_id)  # before any frame is stored: see services/leases.py
    try:
        with owner.run_thread() as thread:
            await _drive_on(thread, live, events)
        await _store_rest(live)
    finally:
        owner.runs.pop(live.run_id, None)
        await owner.leases.give(live.run_id)


async def _drive_on(thread: ThreadPoolExecutor, live: LiveRun, events: AsyncIterator[RunOutputEvent]) -> None:
    """The run, its storage work on `thread`, one call at a time (the agent's thread-sensitive calls)."""
    async with ThreadSensitiveContext(executor=thread):
        try:
            await _Driver(live, events).run()
        except Exception:
            logger.exception("run %s stopped unexpectedly", live.run_id)
            live.add("RunError", _ending(live, "RunError", "error", "The run stopped unexpectedly."))
        finally:
            live.end()  # this process's streams have it all now
        # On the run's own thread, which still holds the connection its last write used.
        await _store(live, thread_sensitive=True)
        # What the run's thread still holds goes back to the pool before the thread waits for the next run.
        await sync_to_async(connections.close_all)()


class _Driver:
    """One run's events into frames: the reply's text coalesced, frames stored while a stream in
    another process watches, a Stop looked for now and then in case its NOTIFY was missed.

    The events are read with a plain `async for`; timers do the rest, and a Stop cancels the task
    at its await (thrown into the agent, whose `finally` ends the run cancelled, keeping the text).
    """

    def __init__(self, live: LiveRun, events: AsyncIterator[RunOutputEvent]) -> None:
        self.live, self.events = live, events
        self.text = ""  # the reply's text not in a frame yet
        self.ended = False  # the agent said how the run ended
        self.last_text = -COALESCE_SECONDS  # the first piece of text goes out at once
        self.running = False
        self.task: asyncio.Task[Any] | None = None
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.storing: asyncio.Future[None] | None = None
        self.look: asyncio.Future[bool] | None = None

    async def run(self) -> None:
        live = self.live
        self.task = asyncio.current_task()
        self.running = True
        live.poke = self._poked
        self._later("look", CANCEL_POLL_SECONDS, self._look)
        try:
            if not live.stopped:
                async for event in self.events:
                    self._take(event)
                    if live.stopped:
                        break
        except asyncio.CancelledError:
            if not live.stopped or self.task is None:
                raise  # the process is stopping
            self.task.uncancel()
        finally:
            self.running = False
            live.poke = None
            for timer in self.timers.values():
                timer.cancel()
            if self.look is not None and not self.look.done():
                self.look.cancel()
            await self.events.aclose()  # type: ignore[attr-defined]
            if self.storing is not None and not self.storing.done():
                # The checkpoint being stored may be waiting for a connection: the one the run's
                # thread still holds (from the run's last write) goes back first, or runs that end
                # together while the pool is busy would each hold one and wait for another.
                await sync_to_async(connection_give_back)()
                await asyncio.wait({self.storing})
        self._text_frame()
        if not self.ended:  # stopped: the agent ended the run as cancelled without saying so
            live.add("RunCancelled", _ending(live, "RunCancelled", "cancelled", None))

    def _later(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self.timers[name] = asyncio.get_running_loop().call_later(delay, callback)

    def _poked(self) -> None:
        """A Stop or a watcher from another process (or this one)."""
        if not self.running:
            return
        if self.live.stopped and self.task is not None:
            self.task.cancel()
        elif self.live.watched and "store" not in self.timers:
            self._store()

    def _take(self, event: RunOutputEvent) -> None:
        if event.event in PYTHON_ONLY_EVENTS:  # the Python API's; the app's streams carry what they did
            return
        if isinstance(event, RunContent):
            self.text += event.content
            wait = self.last_text + COALESCE_SECONDS - time.monotonic()
            if wait <= 0:
                self._text_frame()
            elif "text" not in self.timers:
                self._later("text", wait, self._text_frame)
            return
        self._text_frame()
        self.live.add(event.event, event_payload(event))
        self.ended = event.event in ENDINGS
        self._checkpoint_later()

    def _text_frame(self) -> None:
        timer = self.timers.pop("text", None)
        if timer is not None:
            timer.cancel()
        if self.text:
            content = {"event": "RunContent", "run_id": self.live.run_id, "content": self.text}
            self.live.add("RunContent", content)
            self.text, self.last_text = "", time.monotonic()
            self._checkpoint_later()

    def _checkpoint_later(self) -> None:
        if self.running and "checkpoint" not in self.timers and "store" not in self.timers:
            self._later("checkpoint", CHECKPOINT_SECONDS, self._checkpoint)

    def _checkpoint(self) -> None:
        del self.timers["checkpoint"]
        if self.storing is None or self.storing.done():
            self.storing = asyncio.ensure_future(_store(self.live))

    def _store(self) -> None:
        if self.storing is None or self.storing.done():
            self.storing = asyncio.ensure_future(_store(self.live))
        self._later("store", WATCHED_STORE_SECONDS, self._store)

    def _look(self) -> None:
        if self.look is None:
            self.look = asyncio.ensure_future(
                sync_to_async(_cancelled, thread_sensitive=False)(self.live.run_id)
            )
            self.look.add_done_callback(self._looked)
        self._later("look", CANCEL_POLL_SECONDS, self._look)

    def _looked(self, look: asyncio.Future[bool]) -> None:
        self.look = None
        if not look.cancelled() and look.exception() is None and look.result():
            self.live.stop()


def _ending(live: LiveRun, event: str, status: str, error: str | None) -> dict[str, Any]:
    """The last frame of a run the agent could not finish saying (a Stop): its outcome as stored."""
    content = "".join(f.data.get("content", "") for f in live.frames if f.event == "RunContent")
    output: dict[str, Any] = {"content": content, "status": status, "error": error, "metrics": {}}
    data: dict[str, Any] = {"event": event, "run_id": live.run_id, "output": output}
    if error is not None:
        data["error"] = error
    return data


def _cancelled(run_id: str) -> bool:
    try:
        return selectors.run_status(run_id=run_id) == Run.Status.CANCELLED
    finally:
        connection_give_back()


def _store_frames(run_id: str, frames: list[tuple[int, str, dict[str, Any]]], give_back: bool) -> None:
    try:
        services.run_frames_add(run_id=run_id, frames=frames)
    finally:
        if give_back:
            connection_give_back()


async def _store(live: LiveRun, *, thread_sensitive: bool = False) -> None:
    """Store the frames not stored yet; a failure leaves them for the next try. On the run's own
    thread (`thread_sensitive`), with the connection that thread holds, which its end gives back."""
    upto = len(live.frames)
    frames = [(f.seq, f.event, f.data) for f in live.frames[live.stored : upto]]
    if not frames:
        return
    store = sync_to_async(_store_frames, thread_sensitive=thread_sensitive)
    try:
        await store(live.run_id, frames, not thread_sensitive)
    except Exception as error:  # the database away: the frames stay in memory for the next try
        logger.warning("frames of run %s not stored yet: %s", live.run_id, error)
        return
    live.stored = max(live.stored, upto)


async def _store_rest(live: LiveRun) -> None:
    """Store the run's last frames, retrying while the database is away (as the run's own writes do),
    so a stream opened later anywhere replays the whole run."""
    deadline = time.monotonic() + settings.AGENT_DB_RETRY_SECONDS
    pause = 0.2
    while live.stored < len(live.frames):
        await _store(live)
        if live.stored >= len(live.frames):
            return
        if time.monotonic() > deadline:
            logger.error("frames of run %s were not stored: the database did not answer", live.run_id)
            return
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)
