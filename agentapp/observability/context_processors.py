from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from agentapp import app_agent

from . import selectors


def operator_status(request: HttpRequest) -> dict[str, object]:
    """For staff, whether no worker has been heard from for a minute while work is sent to workers
    (the banner on every page); read only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {"workers_missing": False}
    if not app_agent.background_tasks():
        return {"workers_missing": False}
    return {"workers_missing": SimpleLazyObject(lambda: selectors.workers_alive() == 0)}
