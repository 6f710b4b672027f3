from __future__ import annotations

import os
import socket

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")

django_application = get_asgi_application()

from agentapp.app_agent import embedder_warm_up  # noqa: E402
from agentapp.observability.heartbeat import heartbeat_start  # noqa: E402
from agentapp.platform.body_guard import BodyGuard  # noqa: E402 - after Django is set up

heartbeat_start(kind="web", name=f"web:{socket.gethostname()}:{os.getpid()}")
embedder_warm_up()

# A request's body is bounded while it streams in, before Django reads (and spools) it.
application = BodyGuard(django_application)  # type: ignore[arg-type]  # Django types its handler loosely
