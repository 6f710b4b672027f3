from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.http import require_GET

from agentapp.http import AuthedRequest
from sessions_app.chat.views import chat_page


@login_required
@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    """The chat, with a fresh conversation open: the first message creates the session."""
    return chat_page(request, None)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up (a liveness probe): nothing else is asked, so a database outage never gets
    a healthy process restarted; /readyz says whether it can serve."""
    return JsonResponse({"ok": True})


def _api_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"message": message, "detail": None}, status=status)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the friendly page (templates/404.html), the API's error shape under /api/."""
    if request.path.startswith("/api/"):
        return _api_error("Not found", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the friendly page (templates/500.html), the API's error shape under /api/."""
    if request.path.startswith("/api/"):
        return _api_error("Internal server error; it has been logged", 500)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (a bad Host header, a broken multipart body): the API's error shape under /api/."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        message = "The Host header names no host this server answers to"
    else:
        message = "Bad request"
    return _api_error(message, 400)
