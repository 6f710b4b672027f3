"""What the two OpenAI adapters share: their clients, one request and one streamed request.

The SDK is imported lazily so that importing `agentapp.llm` (and using the
offline demo model) does not pay for, or require, the openai package.
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Sequence
from contextlib import aclosing, closing
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

from ._openai_errors import UNREADABLE_JSON, ErrorMapping, sdk_error
from ._openai_retries import Attempts
from .types import (
    Message,
    ModelError,
    ModelResponse,
    ModelRetrying,
    ResponseFormat,
    StreamItem,
    TextDelta,
    ToolSpec,
)

if TYPE_CHECKING:
    import openai

DEFAULT_BASE_URL = "https://api.openai.com/v1"
NO_KEY_PLACEHOLDER = "no-key-needed"

T = TypeVar("T")


class StreamState(Protocol):
    """Folds a stream's payloads (JSON objects) into text deltas and, at the end, one `ModelResponse`."""

    def feed(self, payload: dict[str, Any]) -> str | None: ...

    def finish(self) -> ModelResponse: ...


class OpenAIBase(ErrorMapping):
    """State and plumbing common to `OpenAIResponses` and `OpenAIChat`.

    Requests go through the SDK's generic `post()` (base URL, auth, retries, timeouts, SSE decoding and
    error classes) with `cast_to=object`, so bodies and replies are plain JSON: the SDK's per-request
    validation of the body against its TypedDicts and its per-chunk pydantic models are skipped.
    """

    provider: str = ""
    path: str = ""  # the endpoint, relative to the base URL
    is_offline_demo = False

    def __init__(
        self,
        id: str,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        temperature: float | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        if not id or not id.strip():
            raise ValueError("model id must not be empty")
        self.id = id
        self.timeout = timeout
        self.max_retries = max_retries
        self.temperature = temperature
        self.extra_body = dict(extra_body) if extra_body else None
        self.response_format: ResponseFormat | None = None
        self._api_key = api_key
        self._base_url = base_url
        # For display only (credentials in the URL dropped); the SDK gets `base_url` as passed.
        shown = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.base_url: str = re.sub(r"//[^/@]*@", "//", shown)
        self._lock = threading.Lock()
        self._client: openai.OpenAI | None = None
        # An AsyncOpenAI client's pooled connections belong to the event loop that opened them, so the
        # client is replaced when called from another loop (e.g. each asyncio.run() or async_to_sync call).
        self._async_loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
        self._async: openai.AsyncOpenAI | None = None

    def with_response_format(self, response_format: ResponseFormat) -> Self:
        """A copy of this model (sharing its clients) whose requests ask for JSON by that schema."""
        structured = copy.copy(self)
        structured.response_format = response_format
        return structured

    def _format_fields(self, response_format: ResponseFormat) -> dict[str, Any]:
        """The request fields asking for `response_format` (each API names them its own way)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, base_url={self.base_url!r})"

    # -- clients -------------------------------------------------------------

    def _client_kwargs(self) -> dict[str, Any]:
        api_key = self._api_key
        if not (api_key or os.environ.get("OPENAI_API_KEY")) and (
            self._base_url or os.environ.get("OPENAI_BASE_URL")
        ):
            # Local OpenAI-compatible servers (Ollama, vLLM) need no key, but the SDK insists on one.
            api_key = NO_KEY_PLACEHOLDER
        return {
            "api_key": api_key,
            "base_url": self._base_url,
            "timeout": self.timeout,
            "max_retries": 0,  # retries are made under the request's deadline (_openai_retries)
        }

    def _sync_client(self) -> openai.OpenAI:
        import openai

        with self._lock:
            if self._client is None:
                self._client = self._construct(openai.OpenAI)
            return self._client

    def _async_client(self) -> openai.AsyncOpenAI:
        import openai

        loop = asyncio.get_running_loop()
        with self._lock:
            if self._async is None or self._async_loop is None or self._async_loop() is not loop:
                self._async = self._construct(openai.AsyncOpenAI)
                self._async_loop = weakref.ref(loop)
            return self._async

    def close(self) -> None:
        """Release the sync client's connections (optional; they are also released on garbage collection)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Release the async client's connections; call from the loop that used it."""
        with self._lock:
            client, loop_ref = self._async, self._async_loop
            self._async = self._async_loop = None
        if client is not None and loop_ref is not None and loop_ref() is asyncio.get_running_loop():
            await client.close()

    def _construct(self, cls: type[T]) -> T:
        import openai

        try:
            return cls(**self._client_kwargs())
        except openai.OpenAIError as exc:
            if not (self._api_key or os.environ.get("OPENAI_API_KEY")):
                raise ModelError(
                    "OPENAI_API_KEY is not set: set it in the environment or configure an API key "
                    f"for model {self.id!r}",
                    kind="auth",
                ) from None
            raise ModelError(
                f"Could not configure the OpenAI client: {self._redact(str(exc))}", kind="bad_request"
            ) from None

    # -- requests ------------------------------------------------------------

    def _body(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, stream: bool
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _response(self, data: dict[str, Any], started_at: float) -> ModelResponse:
        raise NotImplementedError

    def _stream_state(self, started_at: float) -> StreamState:
        raise NotImplementedError

    def _request_body(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The model, temperature and `fields`, then `extra_body` merged over them (as the SDK would)."""
        body = {"model": self.id, **fields}
        if self.response_format is not None:
            body.update(self._format_fields(self.response_format))
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.extra_body:
            body.update(self.extra_body)
        return body

    def _post(self, body: dict[str, Any], *, timeout: float, stream: bool = False) -> Any:
        import openai

        client = self._sync_client()
        try:
            return client.post(
                self.path,
                body=body,
                cast_to=object,
                options=_post_options(timeout),
                stream=stream,
                stream_cls=openai.Stream[object],
            )
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        except UNREADABLE_JSON:
            raise self.unreadable_response_error() from None

    async def _apost(self, body: dict[str, Any], *, timeout: float, stream: bool = False) -> Any:
        import openai

        client = self._async_client()
        try:
            return await client.post(
                self.path,
                body=body,
                cast_to=object,
                options=_post_options(timeout),
                stream=stream,
                stream_cls=openai.AsyncStream[object],
            )
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        except UNREADABLE_JSON:
            raise self.unreadable_response_error() from None

    def _readable(self, data: Any) -> dict[str, Any]:
        # A non-JSON content type comes back as text, and `null` as None.
        if not isinstance(data, dict):
            raise self.unreadable_response_error()
        return data

    def _attempted(self, body: dict[str, Any], *, stream: bool) -> Iterator[ModelRetrying | Any]:
        """Posts `body` until an attempt answers (its result last), each retry told first."""
        attempts = Attempts(self.timeout, self.max_retries)
        while True:
            try:
                result = self._post(body, timeout=attempts.remaining(), stream=stream)
            except ModelError as error:
                if (retry := attempts.next_after(error)) is None:
                    raise
                yield retry
                time.sleep(retry.delay)
                continue
            yield result
            return

    async def _aattempted(self, body: dict[str, Any], *, stream: bool) -> AsyncIterator[ModelRetrying | Any]:
        attempts = Attempts(self.timeout, self.max_retries)
        while True:
            try:
                result = await self._apost(body, timeout=attempts.remaining(), stream=stream)
            except ModelError as error:
                if (retry := attempts.next_after(error)) is None:
                    raise
                yield retry
                await asyncio.sleep(retry.delay)
                continue
            yield result
            return

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        *_, data = self._attempted(self._body(messages, tools, stream=False), stream=False)
        return self._response(self._readable(data), started_at)

    async def arequest(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        *_, data = [
            item async for item in self._aattempted(self._body(messages, tools, stream=False), stream=False)
        ]
        return self._response(self._readable(data), started_at)

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamItem | ModelResponse]:
        started_at = time.time()
        for events in self._attempted(self._body(messages, tools, stream=True), stream=True):
            if isinstance(events, ModelRetrying):
                yield events
        state = self._stream_state(started_at)
        with closing(self.guarded(events)) as payloads:
            for payload in payloads:
                delta = state.feed(self._readable_payload(payload))
                if delta:
                    yield TextDelta(delta)
        yield state.finish()

    async def astream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[StreamItem | ModelResponse]:
        started_at = time.time()
        async for events in self._aattempted(self._body(messages, tools, stream=True), stream=True):
            if isinstance(events, ModelRetrying):
                yield events
        state = self._stream_state(started_at)
        async with aclosing(self.aguarded(events)) as payloads:
            async for payload in payloads:
                delta = state.feed(self._readable_payload(payload))
                if delta:
                    yield TextDelta(delta)
        yield state.finish()

    def _readable_payload(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise self.unreadable_stream_error()
        return payload

    # -- stream iteration ----------------------------------------------------

    def guarded(self, stream: Any) -> Generator[Any, None, None]:
        """Iterate an SDK stream, converting transport failures into stream errors.

        Only the SDK's `next()` is guarded, so bugs in the caller's loop body are not disguised.
        """
        iterator = iter(stream)
        try:
            while True:
                try:
                    event = next(iterator)
                except StopIteration:
                    return
                except Exception as exc:
                    raise self.map_stream_error(exc) from exc
                yield event
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    async def aguarded(self, stream: Any) -> AsyncGenerator[Any, None]:
        iterator = stream.__aiter__()
        try:
            while True:
                try:
                    event = await iterator.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    raise self.map_stream_error(exc) from exc
                yield event
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                await close()


def _post_options(timeout: float) -> Any:  # the SDK's RequestOptions, a TypedDict of its private types
    # What the SDK's own create() methods send: only the API key authenticates, never an admin key.
    return {"security": {"bearer_auth": True}, "timeout": timeout, "max_retries": 0}
