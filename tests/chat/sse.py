"""Reading the chat's server-sent events in tests, over real HTTP against the ASGI server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.db import connection
from django.test import Client


@dataclass
class Frame:
    event: str
    data: str
    id: str | None = None


def parse_frames(lines: Iterator[str]) -> Iterator[Frame]:
    event, data, id = "message", [], None
    for line in lines:
        if line == "":
            if data or event != "message":
                yield Frame(event, "\n".join(data), id)
            event, data, id = "message", [], None
        elif line.startswith("id:"):
            id = line[len("id:") :].strip()
        elif line.startswith("event:"):
            event = line[len("event:") :].strip()
        elif line.startswith("data:"):
            value = line[len("data:") :]
            data.append(value[1:] if value.startswith(" ") else value)


def cookies_for(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    if not connection.in_atomic_block:
        connection.close()  # often called in a thread of its own, which would keep it checked out
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def stream_url(base: str, run_id: str) -> str:
    return f"{base}/chat/runs/{run_id}/stream/"


def read_stream(base: str, run_id: str, user) -> list[Frame]:
    with (
        httpx.Client(cookies=cookies_for(user), timeout=20) as http,
        http.stream("GET", stream_url(base, run_id)) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(parse_frames(response.iter_lines()))


def read_stream_stopping(base: str, run_id: str, user, *, after_replies: int) -> list[Frame]:
    """Read the run's stream, stopping the run (as its Stop button does) once `after_replies`
    reply frames came; the stream goes on to its end."""
    stopper = Client()
    stopper.force_login(user)
    frames: list[Frame] = []
    with (
        httpx.Client(cookies=cookies_for(user), timeout=20) as http,
        http.stream("GET", stream_url(base, run_id)) as response,
    ):
        for frame in parse_frames(response.iter_lines()):
            frames.append(frame)
            if len([f for f in frames if f.event == "reply"]) == after_replies:
                assert stopper.post(f"/chat/runs/{run_id}/stop/").status_code == 204
    return frames
