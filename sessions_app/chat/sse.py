"""Server-sent-event frames: the chat stream's HTML frames and the API's JSON event frames."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import escape


def sse_frame(event: str, data: str) -> bytes:
    """One server-sent event. Each line of `data` gets its own `data:` field, as the format requires."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body = "".join(f"data: {line}\n" for line in lines)
    return f"event: {event}\n{body}\n".encode()


def delta_frame(text: str) -> bytes:
    return sse_frame("delta", escape(text))


def done_frame() -> bytes:
    return sse_frame("done", "")


def json_frame(event: str, data: dict[str, Any]) -> bytes:
    """One event of the API's stream: its name, and a JSON object on one `data:` line."""
    return sse_frame(event, json.dumps(data, cls=DjangoJSONEncoder))
