"""AgentOS 3.1's routes over this app's services, selectors and ownership rules (mounted at /os/).

Agno's AgentOSClient, agent-ui and Agno's control plane take a base URL: point them at
`http://host/os`. Authentication is our API key as the bearer token: a person's key acts for that
person; a service key (the `act for others` permission) may pass any `user_id`, and without one it
sees everyone it may act for. Errors come in AgentOS's shape, `{"detail": ...}`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from agentapp.agent import ModelError
from agentapp.agent import errors as runtime
from agentapp.api_types import runtime_status
from agentapp.errors import AgentAppError, RateLimited
from apikeys.auth import ApiKeyAuth

from .routes import agents, memories, sessions

os_api = NinjaAPI(
    title="AgentOS-compatible API",
    version="3.1",
    description=(
        "Agno AgentOS 3.1's agents, sessions, runs and memories routes, for Agno's AgentOSClient and "
        "agent-ui: use `/os` as their base URL. Authenticate with `Authorization: Bearer <API key>`."
    ),
    auth=[ApiKeyAuth()],
    urls_namespace="agentos",
)


# --- errors, in AgentOS's shape ------------------------------------------------------------------
def _error(request: HttpRequest, status: int, detail: Any) -> HttpResponse:
    return os_api.create_response(request, {"detail": detail}, status=status)


@os_api.exception_handler(AgentAppError)
def on_app_error(request: HttpRequest, exc: AgentAppError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message)


@os_api.exception_handler(runtime.AgentError)
def on_runtime_error(request: HttpRequest, exc: runtime.AgentError) -> HttpResponse:
    status = runtime_status(exc)
    return _error(request, status, exc.message)


@os_api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = _error(request, 429, exc.message)
    response["Retry-After"] = str(exc.retry_after)
    return response


@os_api.exception_handler(RequestDataTooBig)
def on_request_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(
        request, 413, f"The request is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB."
    )


@os_api.exception_handler(RawPostDataException)
def on_body_not_json(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    # A form (multipart) body, read as a form before the route asked for its JSON.
    return _error(request, 415, "Send the body as JSON (Content-Type: application/json).")


@os_api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    return _error(request, 422, detail)


@os_api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found")


@os_api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, "Authentication required: send Authorization: Bearer <API key>")
    response["WWW-Authenticate"] = "Bearer"
    return response


@os_api.exception_handler(ModelError)
def on_model_error(request: HttpRequest, exc: ModelError) -> HttpResponse:
    return _error(request, 503, f"The model is unavailable; try again later ({exc.message})")


def on_database_away(request: HttpRequest, exc: object) -> HttpResponse:
    return _error(request, 503, "The database is unavailable; try again in a moment")


os_api.add_exception_handler(OperationalError, on_database_away)
os_api.add_exception_handler(InterfaceError, on_database_away)


@os_api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


os_api.add_router("", agents.router)
os_api.add_router("", sessions.router)
os_api.add_router("", memories.router)
