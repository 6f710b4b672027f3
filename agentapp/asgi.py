from __future__ import annotations

import os
import socket

from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")

django_application = get_asgi_application()

from agentapp.app_agent import embedder_warm_up  # noqa: E402
from agentapp.observability.heartbeat import heartbeat_start, heartbeat_stop  # noqa: E402
from agentapp.platform.body_guard import BodyGuard, Receive, Scope, Send  # noqa: E402 - after Django is set up
from mcp_app.http import McpHttp, is_mcp_path  # noqa: E402
from sessions_app.live import runs_hand_off  # noqa: E402

heartbeat_start(kind="web", name=f"web:{socket.gethostname()}:{os.getpid()}")
embedder_warm_up()

# A request's body is bounded while it streams in, before Django reads (and spools) it.
django_guarded = BodyGuard(django_application)  # type: ignore[arg-type]  # Django types its handler loosely
mcp_http = McpHttp()  # the MCP SDK's Streamable HTTP (Starlette), keyed by our API keys


async def lifespan(receive: Receive, send: Send) -> None:
    """The ASGI lifespan. Its shutdown is a stopping web process's last word: uvicorn stops on
    SIGTERM by raising the signal again once it has shut down, which ends the process before
    `atexit` runs. The runs it drives are handed off, and its heartbeat says "stopped"."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await runs_hand_off()
            await sync_to_async(heartbeat_stop, thread_sensitive=False)()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    """/mcp/ to the MCP server (it bounds its own bodies), everything else to Django."""
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    if scope["type"] == "http" and is_mcp_path(scope["path"]):
        return await mcp_http(scope, receive, send)
    return await django_guarded(scope, receive, send)
