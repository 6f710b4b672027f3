"""After the events endpoint has answered Slack: the run started in this web process (as the chat's
runs are, sessions_app/live), and its reply posted in the thread with chat.postMessage, then
chat.update as it streams, at most once a UPDATE_SECONDS; a short error text if the run fails.
The reply goes as `markdown_text`: Slack renders the model's Markdown itself.
A one-time link goes privately (chat.postEphemeral in a channel; a direct message is private)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

from agentapp import app_agent
from sessions_app.live import ENDINGS, hub, request_connection_give_back, run_drive, run_follow
from sessions_app.models import Run

from . import selectors, services
from .client import web_client
from .inbound import Begin

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Slack allows chat.update about once a second per channel (Tier 3, and bursts are throttled).
UPDATE_SECONDS = 1.0
MAX_CHARS = 12_000  # Slack's limit for `markdown_text` (the model writes Markdown, which Slack renders)
THINKING_TEXT = "_Thinking…_"
ERROR_TEXT = "Sorry, I could not answer that just now. Please try again in a moment."
STOPPED_TEXT = "_(stopped)_"
LINK_TEXT = (
    "To use the same memory here and on the web, link your Slack account: {url}\n"
    "(The link is yours alone and works once, for {minutes} minutes.)"
)


async def reply_start(*, begin: Begin, link_url: str) -> None:
    """Start the event's run (if any) in this process, and its reply in a task the process owns."""
    if begin.run_id:
        agent = await sync_to_async(app_agent.agent)()
        events = await agent.arun_pending(begin.run_id, stream=True)
        if events is not None:
            run_drive(run_id=begin.run_id, events=events)
    hub().spawn(_reply(begin, link_url))
    await request_connection_give_back()


async def _call(method: str, **arguments: Any) -> Any:
    """One Web API call, on a thread of its own (the SDK's client is synchronous)."""
    client = web_client()
    return await sync_to_async(getattr(client, method), thread_sensitive=False)(**arguments)


async def _db(read: Callable[..., T], **arguments: Any) -> T:
    """A database call from the reply's task, on a pool thread whose connection is closed after it
    (the task outlives any request, so no request's end would close it)."""

    def call() -> T:
        try:
            return read(**arguments)
        finally:
            connection.close()

    return await sync_to_async(call, thread_sensitive=False)()


def _thread(begin: Begin) -> dict[str, str]:
    return {"thread_ts": begin.thread_ts} if begin.thread_ts else {}


async def _reply(begin: Begin, link_url: str) -> None:
    try:
        if begin.link_token:
            await _give_link(begin, link_url)
        if begin.notice:
            await _call("chat_postMessage", channel=begin.channel, text=begin.notice, **_thread(begin))
        if begin.run_id:
            await _channel_name(begin)
            await _follow(begin)
    except Exception:  # Slack away, a token revoked: logged; the run itself is stored either way
        logger.exception("the reply to Slack in %s could not be posted", begin.channel)


async def _give_link(begin: Begin, url: str) -> None:
    text = LINK_TEXT.format(url=url, minutes=services.LINK_MINUTES)
    if begin.is_direct:
        await _call("chat_postMessage", channel=begin.channel, text=text, **_thread(begin))
    else:  # seen by that person only: whoever confirms a link takes over the Slack person's memory
        await _call(
            "chat_postEphemeral", channel=begin.channel, user=begin.slack_user_id, text=text, **_thread(begin)
        )


async def _channel_name(begin: Begin) -> None:
    """The channel's name, for the memories page ("Slack, #general, thread"); its id without it."""
    if begin.thread_pk is None:
        return
    channel = await _db(selectors.thread_needs_channel_name, thread_pk=begin.thread_pk)
    if not channel:
        return
    try:
        info = await _call("conversations_info", channel=channel)
        name = info.get("channel", {}).get("name", "")
    except Exception as error:  # no channels:read scope, say: the id will do
        logger.info("the name of channel %s is unknown: %s", channel, error)
        return
    if isinstance(name, str) and name:
        await _db(services.thread_channel_name_set, thread_pk=begin.thread_pk, name=name)


async def _follow(begin: Begin) -> None:
    posted = await _call(
        "chat_postMessage", channel=begin.channel, markdown_text=THINKING_TEXT, **_thread(begin)
    )
    ts, shown, text, updated_at = posted["ts"], THINKING_TEXT, "", 0.0
    async for batch in run_follow(run_id=begin.run_id, tick=UPDATE_SECONDS):
        for frame in batch:
            if frame.event == "RunContent":
                text += frame.data.get("content", "")
            elif frame.event in ENDINGS:
                break
        if text.strip() and text != shown and time.monotonic() - updated_at >= UPDATE_SECONDS:
            await _call("chat_update", channel=begin.channel, ts=ts, markdown_text=_cut(text))
            shown, updated_at = text, time.monotonic()
    final = await _db(_final_text, run_id=begin.run_id)
    if final != shown:
        await _call("chat_update", channel=begin.channel, ts=ts, markdown_text=final)


def _final_text(*, run_id: str) -> str:
    status, content = selectors.run_outcome(run_id=run_id)
    if status == Run.Status.COMPLETED and content.strip():
        return _cut(content)
    if status == Run.Status.CANCELLED:
        return f"{_cut(content, room=len(STOPPED_TEXT) + 1)}\n{STOPPED_TEXT}".strip()
    return ERROR_TEXT


def _cut(text: str, *, room: int = 0) -> str:
    """The reply as Slack takes it: a longer one is cut, and says so (the whole is on the web)."""
    limit = MAX_CHARS - room
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
