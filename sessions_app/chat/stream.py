"""The SSE stream of one chat run. The stream only watches the run: the first connection to a
pending run starts it in a task of the web process (sessions_app/live), and closing the tab leaves
it running; any connection, in any tab or web process, shows the reply so far and then follows it.

Frames: `reply` (the whole reply so far, Markdown rendered and sanitised, coalesced), `chip` (the
discreet notes of the memories the model wrote so far), `notice` (a retry of the model request, said
until the reply begins), `final` (the finished reply, with
out-of-band swaps for the memory panel and the sidebar) and `done`, always last.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.template.loader import render_to_string

from agentapp import app_agent
from agentapp.observability import metrics

from .. import selectors
from ..live import request_connection_give_back, run_drive, run_follow
from ..models import Run
from .markdown import render_markdown
from .panel import chip, memory_panel
from .sse import done_frame, sse_frame

# The reply is rendered at most this often (a long one less often: see _render_every), so a long
# reply costs a bounded number of renders whatever the model's pace.
RENDER_SECONDS = 0.1
RENDER_CHARS_PER_SECOND = 100_000


async def run_start(*, run_id: str) -> None:
    """Start a pending run in a task of this process; a run claimed already is left alone."""
    agent = await sync_to_async(app_agent.agent)()  # its first build in a process reads the database
    events = await agent.arun_pending(run_id, stream=True)
    if events is not None:
        run_drive(run_id=run_id, events=events)


async def run_stream(*, run: Run, viewer: User | None = None) -> AsyncIterator[bytes]:
    """The run's frames for the chat of `viewer` (whose own replies get thumbs in the final frame)."""
    if run.status == Run.Status.PENDING:  # not started by its POST (no event loop there: WSGI)
        await run_start(run_id=run.run_id)
    elif run.is_finished:  # between the page (or the POST) and this connection: it is news here too
        yield await sync_to_async(final_frame)(run_pk=run.pk, after_run=True, viewer=viewer)
        yield done_frame()
        return
    await request_connection_give_back()  # a stream that watches for minutes holds no connection
    text, shown, rendered_at, noticed = "", "", 0.0, False
    chips: list[str] = []  # all of them in each `chip` frame, so a reconnect's replay shows each once
    with metrics.streaming():
        async for batch in run_follow(run_id=run.run_id, tick=RENDER_SECONDS):
            for frame in batch:
                if frame.event == "RunContent":
                    text += frame.data.get("content", "")
                elif frame.event == "MemoryUpdated":
                    chips.append(chip(frame.data.get("action", ""), frame.data.get("memory", "")))
                    yield sse_frame("chip", "".join(chips))
                elif frame.event == "ModelRetrying" and not text:
                    yield sse_frame("notice", retry_notice(frame.data))
                    noticed = True
            now = time.monotonic()
            if text != shown and now - rendered_at >= _render_every(text):
                if noticed:
                    yield sse_frame("notice", "")
                    noticed = False
                yield sse_frame("reply", render_markdown(text, streaming=True))
                shown, rendered_at = text, now
    yield await sync_to_async(final_frame)(run_pk=run.pk, after_run=True, viewer=viewer)
    yield done_frame()


def retry_notice(data: dict[str, Any]) -> str:
    """What the person reads while the model request is made again (the server's words are on the
    run page, for staff)."""
    return (
        f"No answer from the model yet: trying again ({data.get('attempt', '?')} of "
        f"{data.get('attempts', '?')})…"
    )


def _render_every(text: str) -> float:
    return max(RENDER_SECONDS, len(text) / RENDER_CHARS_PER_SECOND)


def final_frame(*, run_pk: int, after_run: bool, viewer: User | None = None) -> bytes:
    """The reply as stored, rendered; after a run it also refreshes the memory panel and the sidebar
    entry. Rendered without a request: `viewer` is the `user` its template asks who is looking."""
    run = selectors.run_for_render(run_pk=run_pk)
    context: dict[str, Any] = {"run": run, "oob": after_run, "user": viewer}
    if after_run:
        context.update(memory_panel(user_pk=run.user_id, last_run=run))
        item = selectors.session_for_sidebar(session_pk=run.session_id)
        if item is not None and item.temporary:  # listed nowhere, and never titled
            item = None
        context["item"] = item
        context["title_poll"] = None if item is None or item.title else 1  # a worker is writing it
    return sse_frame("final", render_to_string("sessions_app/_final.html", context))
