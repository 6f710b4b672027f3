"""/mcp/: the MCP server over Streamable HTTP, beside Django in the ASGI app (agentapp/asgi.py).

Every request carries one of our API keys as its bearer token, checked here before the SDK sees a
byte: no key, or a revoked one, is a 401. The key's person is who the tools act for (a service
key may name a `user_id`).

Django's ASGI handler speaks no lifespan, so the SDK's session manager is started on the first
request, once per event loop (a test may serve the app from several loops in turn).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, TransportSecuritySettings

from apikeys.models import ApiKey
from apikeys.services import apikey_authenticate

from .server import build_server

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PATHS = ("/mcp", "/mcp/")
logger = logging.getLogger(__name__)


def is_mcp_path(path: str) -> bool:
    return path == "/mcp" or path.startswith("/mcp/")


def _bearer(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


def _authenticate(token: str) -> ApiKey | None:
    close_old_connections()
    try:
        return apikey_authenticate(token=token)
    finally:
        close_old_connections()


def _identify(ctx: Context) -> int:
    """The person of the key this request was authenticated with (see McpHttp)."""
    request = ctx.request_context.request
    user = getattr(request, "scope", {}).get("user")
    if not isinstance(user, AuthenticatedUser) or user.access_token.subject is None:
        raise ToolError("not authenticated")
    return int(user.access_token.subject)


async def _answer(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"message": message, "detail": None}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Running:
    """The SDK's session manager running on one event loop, for as long as the loop runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        server = build_server(_identify)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or DEFAULT_MAX_REQUEST_BODY_SIZE
        server.streamable_http_app(
            # No session is kept between requests, so any web worker (uvicorn --workers, another
            # host) answers any request; the tools need none.
            stateless_http=True,
            max_request_body_size=int(limit),
            # Only a bearer key is accepted, never a cookie, so a page that rebinds DNS to this
            # server gains nothing; the hosts it is served on are the deployment's to decide.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.manager: StreamableHTTPSessionManager = server.session_manager
        self.ready = asyncio.Event()
        self.failure: BaseException | None = None
        self.task = loop.create_task(self._run())

    async def _run(self) -> None:
        try:
            async with self.manager.run():
                self.ready.set()
                await asyncio.Event().wait()  # until the loop ends and cancels this task
        except Exception as error:
            logger.exception("the MCP session manager stopped")
            self.failure = error
            self.ready.set()


class McpHttp:
    """The ASGI app for /mcp/ (any other path under it is not found)."""

    def __init__(self) -> None:
        self._running: dict[asyncio.AbstractEventLoop, _Running] = {}

    async def _manager(self) -> StreamableHTTPSessionManager:
        loop = asyncio.get_running_loop()
        running = self._running.get(loop)
        if running is None:
            for ended in [other for other in self._running if other.is_closed()]:
                del self._running[ended]
            running = self._running[loop] = _Running(loop)
        await running.ready.wait()
        if running.failure is not None:
            raise RuntimeError("the MCP session manager did not start") from running.failure
        return running.manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in PATHS:
            await _answer(send, 404, "not found", [])
            return
        token = _bearer(scope)
        key = await sync_to_async(_authenticate, thread_sensitive=True)(token) if token else None
        if key is None:
            message = "an API key is needed: send it as the bearer token (Authorization: Bearer agk_...)"
            await _answer(send, 401, message, [(b"www-authenticate", b'Bearer realm="mcp"')])
            return
        principal = AccessToken(
            token=key.prefix, client_id=f"apikey-{key.pk}", scopes=[], subject=str(key.user_id)
        )
        scope = {**scope, "user": AuthenticatedUser(principal)}
        await (await self._manager()).handle_request(scope, receive, send)
