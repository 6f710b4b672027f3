"""Each person sees times in their own time zone: the browser's, which static/js/site.js keeps in
the `tz` cookie (from `Intl`), activated for the request; without one (a first visit, no
JavaScript, a zone this server does not know), `TIME_ZONE`."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.decorators import sync_and_async_middleware

COOKIE = "tz"


def zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone `name` ("Europe/Lisbon"), or None for anything else."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _activate(request: HttpRequest) -> None:
    # Activated or reset at every request: a thread that served another person keeps no zone of theirs.
    zone = zone_named(request.COOKIES.get(COOKIE, ""))
    if zone is None:
        timezone.deactivate()
    else:
        timezone.activate(zone)


@sync_and_async_middleware
def person_time_zone(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """Not undone when the view returns: a streamed response renders its last frames after that."""
    if iscoroutinefunction(get_response):

        async def activate_async(request: HttpRequest) -> Any:
            _activate(request)
            return await get_response(request)

        return activate_async

    def activate(request: HttpRequest) -> Any:
        _activate(request)
        return get_response(request)

    return activate
