"""Django's own middleware, served on the event loop under ASGI.

Under ASGI, Django runs each `MiddlewareMixin` hook (process_request, process_response)
through `sync_to_async`: two thread hand-offs per middleware per request, on a thread kept for that
request, so a burst of 100 streamed runs held about 100 threads and spent much of its CPU waking
them. These hooks mostly only read headers and set cookies: here they run on the loop, and go to a
thread only when they may touch the database this request (the session's save, the messages kept in
the session). Under WSGI (and Django's test client) they are Django's classes unchanged.

Not here: Django's security, CSRF and clickjacking middleware, which `manage.py check --deploy`
finds by their names in MIDDLEWARE (a subclass would turn its checks of the HTTPS settings off).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from csp.middleware import CSPMiddleware as _CSPMiddleware
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as _AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as _SessionMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.middleware.common import CommonMiddleware as _CommonMiddleware


class OnTheLoop:
    """Mixed in before a `MiddlewareMixin` class: its hooks run on the event loop (process_request
    only sets things up lazily here), process_response on a thread when `response_blocks` says this
    call may do I/O, as Django does."""

    async_mode: bool
    get_response: Any

    def response_blocks(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = None
        process_request = getattr(self, "process_request", None)
        if process_request is not None:
            response = process_request(request)
        response = response or await self.get_response(request)
        process_response = getattr(self, "process_response", None)
        if process_response is not None:
            if self.response_blocks(request, response):
                response = await sync_to_async(process_response, thread_sensitive=True)(request, response)
            else:
                response = process_response(request, response)
        return response


class CSPMiddleware(OnTheLoop, _CSPMiddleware):
    pass


class SessionMiddleware(OnTheLoop, _SessionMiddleware):
    def response_blocks(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        # It saves a session that was changed (or every one read, with SESSION_SAVE_EVERY_REQUEST).
        session = getattr(request, "session", None)
        if session is None or not session.accessed:
            return False
        return bool(session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class CommonMiddleware(OnTheLoop, _CommonMiddleware):
    pass


class AuthenticationMiddleware(OnTheLoop, _AuthenticationMiddleware):
    pass  # request.user is lazy: the database is asked only when a view reads it


class MessageMiddleware(OnTheLoop, _MessageMiddleware):
    def response_blocks(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        # Messages read or added this request are stored back, maybe in the session.
        messages = getattr(request, "_messages", None)
        return messages is not None and bool(messages.used or messages.added_new)
