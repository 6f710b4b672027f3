"""An ASGI guard in front of Django: a request body is bounded while it streams in.

Django's ASGI handler reads the whole body (spooling it to a temporary file past 2.5 MB) before
any middleware or view runs, so a 1 GB chunked POST, signed in or not, was written to disk before
the 1 MiB limit refused it. Here the body is read first, in memory and bounded: past the limit the
request gets its 413 at once and the rest is never read. An API request with neither a key nor a
session cookie gets its 401 before a single byte of its body is read.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# Multipart bodies carry a file (the memory import takes up to 2 MB) besides the form's fields.
FILE_ALLOWANCE = 2 * 1024 * 1024 + 64 * 1024


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def body_limit(headers: dict[bytes, bytes]) -> int | None:
    """The most a request's body may hold; None when DATA_UPLOAD_MAX_MEMORY_SIZE sets no limit."""
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is None:
        return None
    limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
        limit += FILE_ALLOWANCE
    return limit


def _has_credentials(headers: dict[bytes, bytes]) -> bool:
    if headers.get(b"authorization"):
        return True
    cookie_name = settings.SESSION_COOKIE_NAME.encode()
    return any(
        part.strip().startswith(cookie_name + b"=") for part in headers.get(b"cookie", b"").split(b";")
    )


async def _answer(
    send: Send, scope: Scope, status: int, message: str, detail: Any = None, **headers: str
) -> None:
    if scope["path"].startswith("/api/"):
        body = json.dumps({"message": message, "detail": detail}).encode()
        content_type = b"application/json"
    elif scope["path"].startswith("/os/"):  # AgentOS's error shape, for its clients
        body, content_type = json.dumps({"detail": message}).encode(), b"application/json"
    else:
        body, content_type = message.encode(), b"text/plain; charset=utf-8"
    extra = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if scope["path"].startswith("/api/") and not _has_credentials(headers):
            how = "send Authorization: Bearer <API key>, or sign in"
            await _answer(send, scope, 401, "Authentication required", how, www_authenticate="Bearer")
            return
        limit = body_limit(headers)
        if limit is None:
            await self.app(scope, receive, send)
            return
        too_big = (
            scope,
            413,
            f"The request is too large: at most {limit // 1024} KiB.",
            {"max_bytes": limit},
        )
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            await _answer(send, *too_big)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(send, *too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, as one message; then whatever the client sends next (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
