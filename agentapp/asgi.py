from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")

django_application = get_asgi_application()

from agentapp.body_guard import BodyGuard  # noqa: E402 - after Django is set up

# A request's body is bounded while it streams in, before Django reads (and spools) it.
application = BodyGuard(django_application)  # type: ignore[arg-type]  # Django types its handler loosely
