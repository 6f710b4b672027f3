"""What one Slack event asks for: nothing (a retry, a bot's own message, an event we do not handle),
a one-time link, a short notice, or a run of the agent in the person's session of that thread."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction

from agentapp.errors import AgentAppError
from sessions_app import services as session_services
from sessions_app.models import Run
from sessions_app.ratelimit import run_rate_limit_check

from . import selectors, services
from .models import SlackIdentity

MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")
FIELD = re.compile(r"[A-Za-z0-9._-]{1,32}")  # Slack's ids and timestamps
LINK_WORD = "link"
GONE_TEXT = "The account you talked to me as is gone. To talk to me again, link an account first."
LINKED_TEXT = "Your Slack account is linked already. To link another, unlink it in your settings first."


@dataclass(frozen=True)
class Begin:
    """What to do for one event, after the request has answered Slack."""

    channel: str
    thread_ts: str  # "" for a direct message outside a thread: the reply goes in the conversation
    slack_user_id: str
    is_direct: bool
    run_id: str = ""  # a run to start and reply to
    link_token: str = ""  # a one-time link to give the person, privately
    notice: str = ""  # a short text instead of a run
    thread_pk: int | None = None


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) and FIELD.fullmatch(value) else ""


def _handled(event: dict[str, Any]) -> bool | None:
    """True for a direct message, False for a mention in a channel, None for anything else (our own
    replies, edits, joins...)."""
    if event.get("bot_id") or event.get("subtype"):
        return None
    if event.get("type") == "app_mention":
        return False
    if event.get("type") == "message" and event.get("channel_type") == "im":
        return True
    return None


def event_begin(*, payload: dict[str, Any]) -> Begin | None:
    """Record the event (a retry of one seen before starts nothing) and decide what it asks for."""
    event = payload.get("event")
    team_id, event_id = _field(payload, "team_id"), payload.get("event_id")
    if not isinstance(event, dict) or not team_id or not isinstance(event_id, str) or not event_id:
        return None
    is_direct = _handled(event)
    user_id, channel, ts = _field(event, "user"), _field(event, "channel"), _field(event, "ts")
    if is_direct is None or not (user_id and channel and ts):
        return None
    thread_ts = _field(event, "thread_ts") or ("" if is_direct else ts)
    begin = Begin(channel=channel, thread_ts=thread_ts, slack_user_id=user_id, is_direct=is_direct)
    with transaction.atomic():
        if not services.event_record(event_id=event_id, team_id=team_id, kind=str(event.get("type"))):
            return None
        identity, created = services.identity_get_or_create(team_id=team_id, slack_user_id=user_id)
        text = MENTION.sub("", str(event.get("text") or "")).strip()
        if selectors.identity_is_void(identity=identity):
            return _link(begin, identity, notice=GONE_TEXT)
        if text.lower() == LINK_WORD:
            return _link(begin, identity) if not identity.is_linked else _notice(begin, LINKED_TEXT)
        return _run(begin, identity, text, offer_link=created)


def _link(begin: Begin, identity: SlackIdentity, *, notice: str = "") -> Begin:
    token = services.link_token_create(identity=identity)
    return replace(begin, link_token=token, notice=notice)


def _notice(begin: Begin, text: str) -> Begin:
    return replace(begin, notice=text)


def _run(begin: Begin, identity: SlackIdentity, text: str, *, offer_link: bool) -> Begin:
    assert identity.user is not None
    session = services.thread_session_get_or_create(
        identity=identity, channel=begin.channel, thread_ts=begin.thread_ts, is_direct=begin.is_direct
    )
    try:
        run_rate_limit_check(user=identity.user)
        run = session_services.run_create(session=session, input=text, status=Run.Status.PENDING)
    except AgentAppError as exc:  # too long, empty, too many at once: said in the thread, no run
        return _notice(begin, exc.message)
    token = services.link_token_create(identity=identity) if offer_link else ""
    return replace(begin, run_id=run.run_id, link_token=token, thread_pk=session.slack_thread.pk)
