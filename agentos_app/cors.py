"""CORS for /os/ only: agent-ui and Agno's control plane call it from a page of another origin.

Only the origins in AGENTOS_CORS_ORIGINS are allowed, and no cookie is ever accepted here (the
routes take a bearer key), so a page of an allowed origin can do no more than the key it holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

PREFIX = "/os/"
ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "authorization, content-type, x-user-id"  # agent-ui sends X-User-ID
MAX_AGE = "600"


def _allowed_origin(request: HttpRequest) -> str | None:
    origin = request.headers.get("Origin")
    if not origin or not request.path.startswith(PREFIX):
        return None
    allowed = settings.AGENTOS_CORS_ORIGINS
    return origin if origin in allowed or "*" in allowed else None


def _is_preflight(request: HttpRequest) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _preflight(origin: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response["Access-Control-Max-Age"] = MAX_AGE
    return _with_origin(response, origin)


def _with_origin(response: Any, origin: str) -> Any:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


@sync_and_async_middleware
def agentos_cors(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    if iscoroutinefunction(get_response):
        answer: Callable[[HttpRequest], Awaitable[Any]] = get_response

        async def cors_async(request: HttpRequest) -> Any:
            origin = _allowed_origin(request)
            if origin and _is_preflight(request):
                return _preflight(origin)
            response = await answer(request)
            return _with_origin(response, origin) if origin else response

        return cors_async

    def cors(request: HttpRequest) -> Any:
        origin = _allowed_origin(request)
        if origin and _is_preflight(request):
            return _preflight(origin)
        response = get_response(request)
        return _with_origin(response, origin) if origin else response

    return cors
