"""The runs this web process drives, and what web processes tell each other about runs.

A run is driven by a task the process owns, not by a request: `LiveRun` holds its frames in memory
for the streams of this process. Processes talk over PostgreSQL's LISTEN/NOTIFY, one listening
connection each: a Stop pressed anywhere (`cancel`), a stream elsewhere that wants a run's frames
stored as they come (`watch`), and frames stored (`run`, `seq`), which wakes the streams that
follow a run driven elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from django.db import connection

from agentapp.platform.database import libpq_params

from ..services import RUNS_CHANNEL
from .lease import Leases

logger = logging.getLogger(__name__)

ENDINGS = frozenset({"RunCompleted", "RunError", "RunCancelled"})
LISTEN_RETRY_SECONDS = (0.2, 5.0)  # first pause and cap while the database is away
IDLE_RUN_THREADS = 64  # threads kept for the next runs


@dataclass(frozen=True)
class Frame:
    """One event of a run's stream: its sequence number (the SSE id), name and JSON data."""

    seq: int
    event: str
    data: dict[str, Any]

    @property
    def is_last(self) -> bool:
        return self.event in ENDINGS


class LiveRun:
    """A run this process drives: every frame so far, and what the other processes asked of it."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.frames: list[Frame] = []
        self.ended = False
        self.stored = 0  # frames[:stored] are in the database
        self.watched = False  # a stream in another process follows it: store frames as they come
        self.stopped = False
        self.poke: Callable[[], None] | None = None  # the driver's: a Stop or a watcher to act on
        self._changed = asyncio.Event()

    def stop(self) -> None:
        self.stopped = True
        if self.poke is not None:
            self.poke()

    def watch(self) -> None:
        self.watched = True
        if self.poke is not None:
            self.poke()

    def add(self, event: str, data: dict[str, Any]) -> Frame:
        frame = Frame(len(self.frames), event, data)
        self.frames.append(frame)
        self._touch()
        return frame

    def end(self) -> None:
        self.ended = True
        self._touch()

    def changed(self) -> asyncio.Event:
        """Set at the next frame (or the end): wait on it after reading what is there."""
        return self._changed

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


class Hub:
    """The runs of one event loop (a web process; each test server has its own) and its listener."""

    def __init__(self) -> None:
        self.runs: dict[str, LiveRun] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._idle_threads: list[ThreadPoolExecutor] = []
        self.leases = Leases()

    def spawn(self, work: Any) -> asyncio.Task[None]:
        """A task owned by the process, in a context of its own: it outlives the request that
        started it, and its thread-sensitive calls do not run on the request's finished thread."""
        task = asyncio.get_running_loop().create_task(work, context=contextvars.Context())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    @contextlib.contextmanager
    def run_thread(self) -> Iterator[ThreadPoolExecutor]:
        """A thread of its own for one run's storage work, as a request has one; threads are kept
        for the next run (a new thread costs a new database wrapper and a pool checkout)."""
        executor = self._idle_threads.pop() if self._idle_threads else ThreadPoolExecutor(max_workers=1)
        try:
            yield executor
        finally:
            if len(self._idle_threads) < IDLE_RUN_THREADS:
                self._idle_threads.append(executor)
            else:
                executor.shutdown(wait=False)

    def listen(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = self.spawn(self._listen())

    def watch(self, run_id: str) -> asyncio.Event:
        """An event set whenever frames of `run_id` are stored (and, to be safe, on a reconnect)."""
        self.listen()
        event = asyncio.Event()
        self._watchers.setdefault(run_id, set()).add(event)
        return event

    def unwatch(self, run_id: str, event: asyncio.Event) -> None:
        watchers = self._watchers.get(run_id)
        if watchers is not None:
            watchers.discard(event)
            if not watchers:
                del self._watchers[run_id]

    def dispatch(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if isinstance(run_id := message.get("run"), str):
            for event in self._watchers.get(run_id, ()):
                event.set()
        elif isinstance(run_id := message.get("cancel"), str):
            if (live := self.runs.get(run_id)) is not None:
                live.stop()
        elif isinstance(run_id := message.get("watch"), str) and (live := self.runs.get(run_id)) is not None:
            live.watch()

    async def _listen(self) -> None:
        pause = LISTEN_RETRY_SECONDS[0]
        while True:
            try:
                params = await sync_to_async(libpq_params, thread_sensitive=False)(connection)
                async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {RUNS_CHANNEL}")
                    pause = LISTEN_RETRY_SECONDS[0]
                    self._wake_watchers()  # what was said while this was away: read it again
                    async for notice in conn.notifies():
                        self.dispatch(notice.payload)
            except Exception as error:  # the database away, a restart: listen again
                logger.warning("listening for live runs: %s; again in %.1f s", error, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, LISTEN_RETRY_SECONDS[1])

    def _wake_watchers(self) -> None:
        for watchers in self._watchers.values():
            for event in watchers:
                event.set()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub()
    return found
