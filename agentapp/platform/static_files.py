"""WhiteNoise under ASGI without Django's warning that a streamed response holds a sync iterator.

WhiteNoise answers with a file response whose content is a synchronous iterator; served by ASGI,
Django consumes it through a thread and warns on every file. Static files here are small, so under
ASGI the file is read in this (already synchronous) middleware and handed over as one async chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseFileResponse, WhiteNoiseMiddleware  # type: ignore[import-untyped]


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = super().__call__(request)
        # Only WhiteNoise's own file responses: the app's streams (the chat's SSE) stay as they are.
        if isinstance(request, ASGIRequest) and isinstance(response, WhiteNoiseFileResponse):
            data = b"".join(response.streaming_content)  # a sync iterator here
            response.streaming_content = _one_chunk(data)
        return response
