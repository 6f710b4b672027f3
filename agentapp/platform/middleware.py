"""Requests refused before any view: a body over the size limit (a clear 413, instead of Django's
generic 400 or a 500 from a view) and text holding a NUL character (400)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware

NUL = "\x00"
NUL_MESSAGE = "The request contains a NUL character (U+0000), which no text here may hold."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def request_too_big_response(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request is too large: at most {limit // 1024} KiB."
    if request.path.startswith("/os/"):  # AgentOS's error shape, for its clients
        return JsonResponse({"detail": message}, status=413)
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"message": message, "detail": {"max_bytes": limit}}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def _too_big(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return False
    if request.content_type == "multipart/form-data":
        # Files do not count towards the limit (the views that take them bound them); the form fields
        # do, and Django counts them while parsing. Parse here, as CsrfViewMiddleware would next, so
        # an oversized form is this 413 rather than the 400 its exception would become in there.
        try:
            request.POST  # noqa: B018
        except RequestDataTooBig:
            return True
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return False


class RequestTooBigMiddleware:
    """Answers 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE.

    Django raises RequestDataTooBig lazily, when a view first reads request.POST or request.body;
    a body over the limit is refused here before any view runs, and a RequestDataTooBig a view
    still meets is mapped by process_exception.
    """

    async_capable = True
    sync_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if _too_big(request):
            return request_too_big_response(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if _too_big(request):
            return request_too_big_response(request)
        return await self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return request_too_big_response(request)
        return None


def _nul_in(request: HttpRequest) -> bool:
    if NUL in request.path:
        return True
    fields = [request.GET]
    if request.method == "POST" and request.content_type in FORM_TYPES:
        fields.append(request.POST)  # the fields only: uploaded files are bounded by their views
    return any(
        NUL in key or any(NUL in value for value in values) for data in fields for key, values in data.lists()
    )


def _nul_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/os/"):  # AgentOS's error shape, for its clients
        return JsonResponse({"detail": NUL_MESSAGE}, status=400)
    if request.path.startswith("/api/"):
        return JsonResponse({"message": NUL_MESSAGE, "detail": None}, status=400)
    return HttpResponse(NUL_MESSAGE, status=400, content_type="text/plain; charset=utf-8")


@sync_and_async_middleware
def refuse_nul_characters(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """400 for a NUL in the path, the query string or a form field, which PostgreSQL cannot store
    and no id contains: one answer here instead of a 500 (or a 404) from whichever view met it.
    JSON bodies are the API schemas' to check."""
    if iscoroutinefunction(get_response):

        async def guard_async(request: HttpRequest) -> HttpResponse:
            if _nul_in(request):
                return _nul_response(request)
            return await get_response(request)

        return guard_async

    def guard(request: HttpRequest) -> HttpResponse:
        if _nul_in(request):
            return _nul_response(request)
        return get_response(request)

    return guard
