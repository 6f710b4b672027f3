from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from .fake_slack import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
TEAM = "T0TEAM"
BOT = "U0BOT"


@pytest.fixture
def fake_slack(settings) -> Iterator[FakeSlack]:
    """The loopback Slack, and the app configured to use it."""
    fake = FakeSlack().start()
    settings.SLACK_SIGNING_SECRET = SECRET
    settings.SLACK_BOT_TOKEN = TOKEN
    settings.SLACK_API_URL = fake.base_url
    yield fake
    fake.stop()


def signed_headers(body: bytes, *, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """The headers Slack sends, signed with the SDK's own signature helper."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/json",
    }


_counter = iter(range(1, 1_000_000))


def event_payload(
    *,
    user: str = "U0ALICE",
    text: str = "hello",
    kind: str = "app_mention",
    channel: str = "C0GENERAL",
    thread_ts: str | None = None,
    event_id: str | None = None,
    team: str = TEAM,
    **extra: Any,
) -> dict[str, Any]:
    n = next(_counter)
    event: dict[str, Any] = {
        "type": kind,
        "user": user,
        "text": f"<@{BOT}> {text}" if kind == "app_mention" else text,
        "ts": f"1765000{n:03d}.000200",
        "channel": channel,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {
        "type": "event_callback",
        "team_id": team,
        "event_id": event_id or f"Ev{n:08d}",
        "event_time": int(time.time()),
        "event": event,
    }


def dm_payload(**kwargs: Any) -> dict[str, Any]:
    return event_payload(kind="message", channel="D0ALICE", channel_type="im", **kwargs)


def post_event(
    base: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST an event to the app at `base`, signed unless `headers` are given."""
    body = json.dumps(payload).encode()
    sent = signed_headers(body) if headers is None else headers
    return httpx.post(f"{base}/slack/events/", content=body, headers=sent, timeout=10)
