"""The one NinjaAPI: auth set once, every error mapped once to {"message", "detail"}, one router per app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth as NinjaSessionAuth

from agentapp.accounts.api import router as users_router
from agentapp.agent import ModelError
from agentapp.agent import errors as runtime
from agentapp.api_types import runtime_status
from agentapp.errors import AgentAppError, FollowupFailed, RateLimited
from apikeys.auth import ApiKeyAuth
from memory_app.api import router as memory_router
from memory_app.api import topics_router
from sessions_app.api import router as sessions_router
from sessions_app.api import runs_router


class SessionAuth(NinjaSessionAuth):
    """The browser's session, with its CSRF check; a caller with no session cookie has nothing to forge
    and is unauthenticated (401), rather than refused for a missing CSRF token (403). (The class name
    is the scheme's name in the OpenAPI document.)"""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.COOKIES.get(self.param_name):
            return None
        return super()._get_key(request)


api = NinjaAPI(
    title="Agent sessions & memory API",
    version="1",
    description=(
        "Runs, sessions, memories and users. Authenticate with `Authorization: Bearer <API key>` "
        "(create one at /settings/api-keys/) or, from the browser, the session cookie with a CSRF token. "
        "A person's key acts only for that person; a staff member's (service) key may pass any `user_id`."
    ),
    auth=[ApiKeyAuth(), SessionAuth()],
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, message: str, detail: Any = None) -> HttpResponse:
    return api.create_response(request, {"message": message, "detail": detail}, status=status)


@api.exception_handler(AgentAppError)
def on_app_error(request: HttpRequest, exc: AgentAppError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message, exc.detail)


@api.exception_handler(runtime.AgentError)
def on_runtime_error(request: HttpRequest, exc: runtime.AgentError) -> HttpResponse:
    status = runtime_status(exc)
    return _error(request, status, exc.message, exc.detail)


@api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = _error(request, 429, exc.message, exc.detail)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request is too large: at most {limit // 1024} KiB."
    return _error(request, 413, message, {"max_bytes": limit})


@api.exception_handler(RawPostDataException)
def on_body_not_json(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    # A form (multipart) body, read as a form before the route asked for its JSON.
    return _error(request, 415, "Send the body as JSON (Content-Type: application/json).")


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    return _error(request, 422, "Invalid input", detail)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, 401, "Authentication required", "send Authorization: Bearer <API key>, or sign in"
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ModelError)
def on_model_error(request: HttpRequest, exc: ModelError) -> HttpResponse:
    return _error(request, 503, "The model is unavailable; try again later", exc.message)


@api.exception_handler(FollowupFailed)
def on_followup_failed(request: HttpRequest, exc: FollowupFailed) -> HttpResponse:
    return _error(request, 503, "The model is unavailable; try again later", exc.message)


def on_database_away(request: HttpRequest, exc: object) -> HttpResponse:
    # The database is away (a restart, a failover): say so, rather than a 500 with a traceback.
    return _error(request, 503, "The database is unavailable; try again in a moment")


api.add_exception_handler(OperationalError, on_database_away)
api.add_exception_handler(InterfaceError, on_database_away)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


api.add_router("/runs", runs_router)
api.add_router("/sessions", sessions_router)
api.add_router("/memories", memory_router)
api.add_router("/memory-topics", topics_router)
api.add_router("/users", users_router)
