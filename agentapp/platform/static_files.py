"""WhiteNoise, without forcing Django's middleware chain onto a thread under ASGI.

WhiteNoise's middleware is synchronous only: under ASGI, Django then runs it, and adapts everything
after it, through thread hand-offs on every request, static or not. Here the lookup (a dict of the
files found at start-up) is made on the event loop, a request for anything else goes straight on,
and only a file's own response is made on a thread. Its content is read whole and handed over as
one async chunk (static files here are small), so Django does not consume a sync iterator through a
thread and warn on every file. Under WSGI it is WhiteNoise unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return super().__call__(request)

    def _file_response(self, static_file: Any, request: HttpRequest) -> HttpResponseBase:
        response = self.serve(static_file, request)
        response.streaming_content = _one_chunk(b"".join(response.streaming_content))
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:  # DEBUG: the file system is asked at every request
            static_file = await sync_to_async(self.find_file, thread_sensitive=False)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            return await self.get_response(request)
        return await sync_to_async(self._file_response, thread_sensitive=False)(static_file, request)
