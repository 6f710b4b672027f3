"""Following a run from any web process: what is there so far, then live, each frame once.

A run driven here is read from memory. One driven by another process is read from its stored
frames, woken by that process's NOTIFY after each store (and asked, once, to store as it goes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async

from agentapp.platform.database import connection_give_back

from .. import selectors, services
from ..models import Run
from .hub import ENDINGS, Frame, LiveRun, hub

# A stream of a run driven elsewhere reads its frames again this often even without a NOTIFY.
REMOTE_POLL_SECONDS = 1.0
# A run that ended this long ago without its last frame stored (its process died) is told from its row.
ORPHAN_SECONDS = 5.0
ENDING_OF = {
    Run.Status.COMPLETED: "RunCompleted",
    Run.Status.ERROR: "RunError",
    Run.Status.CANCELLED: "RunCancelled",
}


async def run_follow(
    *, run_id: str, after: int = -1, tick: float | None = None
) -> AsyncIterator[list[Frame]]:
    """The run's frames after `after` (a Last-Event-ID), in batches as they come, the run's ending
    last. With `tick`, an empty batch when nothing came for that long (a render that was put off)."""
    owner = hub()
    last = after
    while True:
        live = owner.runs.get(run_id)
        if live is not None:
            async for batch in _local(live, last, tick):
                yield batch
            return
        remote = _remote(run_id, last, tick)
        try:
            async for found in remote:
                if found is None:
                    break  # the run moved here meanwhile (this process claimed it): follow it in memory
                if found:
                    last = found[-1].seq
                yield found
            else:
                return
        finally:
            await remote.aclose()


async def _local(live: LiveRun, after: int, tick: float | None) -> AsyncIterator[list[Frame]]:
    position = after + 1
    while True:
        changed = live.changed()
        if position < len(live.frames):
            batch = live.frames[position:]
            position = len(live.frames)
            yield batch
        elif live.ended:
            return
        elif tick is None:
            await changed.wait()
        else:
            try:
                await asyncio.wait_for(changed.wait(), tick)
            except TimeoutError:
                yield []


def _read(run_id: str, after: int) -> selectors.RunLive | None:
    try:
        return selectors.run_live(run_id=run_id, after=after)
    finally:
        connection_give_back()


def _ask_to_store(run_id: str) -> None:
    try:
        services.runs_notify(message={"watch": run_id})
    finally:
        connection_give_back()


def _end_orphaned(run_id: str) -> None:
    try:
        services.run_end_orphaned(run_id=run_id)
    finally:
        connection_give_back()


async def _remote(run_id: str, after: int, tick: float | None) -> AsyncGenerator[list[Frame] | None, None]:
    owner = hub()
    stored = owner.watch(run_id)
    asked = False
    last = after
    free_since: float | None = None  # when the run's lease was first seen free (its driver gone?)
    try:
        while run_id not in owner.runs:
            stored.clear()
            state = await sync_to_async(_read, thread_sensitive=False)(run_id, last)
            if state is None:
                return  # deleted meanwhile
            abandoned = state.status == Run.Status.RUNNING and state.lease_free and state.last_seq is not None
            free_since = (free_since or time.monotonic()) if abandoned else None
            if free_since is not None and time.monotonic() - free_since >= services.LEASE_SECONDS:
                await sync_to_async(_end_orphaned, thread_sensitive=False)(run_id)
                free_since = None
                continue  # its last frame is stored now: read it
            if state.frames:
                batch = [Frame(*frame) for frame in state.frames]
                last = batch[-1].seq
                yield batch
                if batch[-1].is_last:
                    return
            elif state.last_event in ENDINGS:
                return  # the caller has had it all
            elif state.status in ENDING_OF and (state.never_started or state.ended_ago > ORPHAN_SECONDS):
                # Told from the row under one id, right after the last frame stored: a client that
                # resumes after it has had it.
                seq = (state.last_seq if state.last_seq is not None else -1) + 1
                if last < seq:
                    yield [_orphan_ending(run_id, seq, state)]
                return
            if not asked and state.status == Run.Status.RUNNING:
                await sync_to_async(_ask_to_store, thread_sensitive=False)(run_id)
                asked = True
            try:
                await asyncio.wait_for(stored.wait(), tick or REMOTE_POLL_SECONDS)
            except TimeoutError:
                if tick is not None:
                    yield []
        yield None
    finally:
        owner.unwatch(run_id, stored)


def _orphan_ending(run_id: str, seq: int, state: selectors.RunLive) -> Frame:
    event = ENDING_OF[Run.Status(state.status)]
    output: dict[str, Any] = {
        "content": state.content,
        "status": state.status,
        "error": state.error or None,
        "metrics": {},
    }
    data = {"event": event, "run_id": run_id, "output": output}
    if event == "RunError":
        data["error"] = state.error
    return Frame(seq, event, data)
