"""Server-sent-event frames: the chat stream's HTML frames and the API's JSON event frames."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


def sse_frame(event: str, data: str, *, id: int | None = None) -> bytes:
    """One server-sent event. Each line of `data` gets its own `data:` field, as the format requires;
    `id` is what a client that reconnects sends back as Last-Event-ID."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body = "".join(f"data: {line}\n" for line in lines)
    head = f"id: {id}\n" if id is not None else ""
    return f"{head}event: {event}\n{body}\n".encode()


def done_frame() -> bytes:
    return sse_frame("done", "")


def json_frame(event: str, data: dict[str, Any], *, id: int | None = None) -> bytes:
    """One event of the API's stream: its name, and a JSON object on one `data:` line."""
    return sse_frame(event, json.dumps(data, cls=DjangoJSONEncoder), id=id)
