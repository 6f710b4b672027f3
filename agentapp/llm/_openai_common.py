"""Client construction and error mapping shared by the OpenAI adapters.

The SDK is imported lazily so that importing `agentapp.llm` (and using the
offline demo model) does not pay for, or require, the openai package.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import os
import re
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import aclosing, closing
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .types import Message, ModelError, ModelResponse, TextDelta, ToolSpec, Usage

if TYPE_CHECKING:
    import openai

DEFAULT_BASE_URL = "https://api.openai.com/v1"
NO_KEY_PLACEHOLDER = "no-key-needed"
_MAX_SERVER_MESSAGE = 300
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")

T = TypeVar("T")


class StreamState(Protocol):
    """Folds a stream's payloads (JSON objects) into text deltas and, at the end, one `ModelResponse`."""

    def feed(self, payload: dict[str, Any]) -> str | None: ...

    def finish(self) -> ModelResponse: ...


class OpenAIBase:
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
            "max_retries": self.max_retries,
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
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.extra_body:
            body.update(self.extra_body)
        return body

    def _post(self, body: dict[str, Any], *, stream: bool = False) -> Any:
        import openai

        client = self._sync_client()
        try:
            return client.post(
                self.path,
                body=body,
                cast_to=object,
                options=_post_options(),
                stream=stream,
                stream_cls=openai.Stream[object],
            )
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        except _UNREADABLE_JSON:
            raise self.unreadable_response_error() from None

    async def _apost(self, body: dict[str, Any], *, stream: bool = False) -> Any:
        import openai

        client = self._async_client()
        try:
            return await client.post(
                self.path,
                body=body,
                cast_to=object,
                options=_post_options(),
                stream=stream,
                stream_cls=openai.AsyncStream[object],
            )
        except sdk_error() as exc:
            raise self.map_error(exc) from exc
        except _UNREADABLE_JSON:
            raise self.unreadable_response_error() from None

    def _readable(self, data: Any) -> dict[str, Any]:
        # A non-JSON content type comes back as text, and `null` as None.
        if not isinstance(data, dict):
            raise self.unreadable_response_error()
        return data

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        data = self._post(self._body(messages, tools, stream=False))
        return self._response(self._readable(data), started_at)

    async def arequest(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        data = await self._apost(self._body(messages, tools, stream=False))
        return self._response(self._readable(data), started_at)

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> Iterator[TextDelta | ModelResponse]:
        started_at = time.time()
        events = self._post(self._body(messages, tools, stream=True), stream=True)
        state = self._stream_state(started_at)
        with closing(self.guarded(events)) as payloads:
            for payload in payloads:
                delta = state.feed(self._readable_payload(payload))
                if delta:
                    yield TextDelta(delta)
        yield state.finish()

    async def astream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[TextDelta | ModelResponse]:
        started_at = time.time()
        events = await self._apost(self._body(messages, tools, stream=True), stream=True)
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

    # -- errors --------------------------------------------------------------

    def _redact(self, text: str) -> str:
        for key in (self._api_key, os.environ.get("OPENAI_API_KEY")):
            if key:
                # Whole-token matches only, so a short key does not mangle ordinary words.
                text = re.sub(rf"(?<![\w-]){re.escape(key)}(?![\w-])", "***", text)
        return _KEY_PATTERN.sub("sk-***", text)

    def _server_message(self, exc: Any) -> str:
        body = getattr(exc, "body", None)
        message: Any = None
        if isinstance(body, dict):
            message = body.get("message")
        elif isinstance(body, str) and body.strip():
            message = body
        if not isinstance(message, str) or not message.strip():
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        message = " ".join(message.split())
        if len(message) > _MAX_SERVER_MESSAGE:
            message = message[: _MAX_SERVER_MESSAGE - 1] + "…"
        return self._redact(message)

    def map_error(self, exc: BaseException) -> ModelError:
        """Turn an SDK exception raised while making a request into a `ModelError`."""
        import openai

        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(f"Model request timed out after {self.timeout:g}s", kind="timeout")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__
            detail = f" ({self._redact(str(cause))})" if cause is not None and str(cause) else ""
            return ModelError(
                f"Could not connect to the model server at {self.base_url}{detail}", kind="connection"
            )
        if isinstance(exc, openai.APIStatusError):
            return self._map_status_error(exc)
        if isinstance(exc, openai.APIResponseValidationError):
            return self.unreadable_response_error(exc.status_code)
        return ModelError(f"Model request failed: {self._server_message(exc)}", kind="bad_request")

    def _map_status_error(self, exc: openai.APIStatusError) -> ModelError:
        import openai

        status = exc.status_code
        message = self._server_message(exc)
        if isinstance(exc, openai.RateLimitError) or status == 429:
            return ModelError(
                f"Model rate limit reached (HTTP {status}): {message}",
                kind="rate_limit",
                status_code=status,
                retry_after=parse_retry_after(exc.response.headers),
            )
        if status >= 500:
            return ModelError(
                f"Model server error (HTTP {status}): {message}", kind="server", status_code=status
            )
        if isinstance(exc, openai.AuthenticationError) or status == 401:
            return ModelError(
                f"The model server rejected the API key (HTTP {status}): {message}",
                kind="auth",
                status_code=status,
            )
        if isinstance(exc, openai.PermissionDeniedError) or status == 403:
            return ModelError(
                f"The model server denied access (HTTP {status}): {message}", kind="auth", status_code=status
            )
        return ModelError(
            f"The model server rejected the request (HTTP {status}): {message}",
            kind="bad_request",
            status_code=status,
        )

    def map_stream_error(self, exc: BaseException) -> ModelError:
        """Turn anything raised while iterating an open stream into a `ModelError(kind="stream")`."""
        import openai

        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            message = f"The model stream stalled: no data for {self.timeout:g}s"
        elif isinstance(exc, openai.APIConnectionError):
            message = "The model stream was cut off before it finished"
        elif isinstance(exc, openai.APIError):
            message = f"The model stream failed: {self._server_message(exc)}"
        else:
            message = f"The model stream failed: {self._redact(str(exc)) or type(exc).__name__}"
        return ModelError(message, kind="stream")

    def unreadable_response_error(self, status_code: int | None = None) -> ModelError:
        return ModelError(
            "The model server sent a response that could not be read", kind="server", status_code=status_code
        )

    def incomplete_stream_error(self) -> ModelError:
        return ModelError("The model stream ended before the response was complete", kind="stream")

    def unreadable_stream_error(self) -> ModelError:
        return ModelError(
            "The model stream failed: the model server sent data that could not be read", kind="stream"
        )

    # -- stream iteration ----------------------------------------------------

    def guarded(self, stream: Any) -> Iterator[Any]:
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

    async def aguarded(self, stream: Any) -> AsyncIterator[Any]:
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


# Raised by the SDK's `response.json()` for a body labelled JSON that is not.
_UNREADABLE_JSON = (json.JSONDecodeError, UnicodeDecodeError)


def _post_options() -> dict[str, Any]:
    # What the SDK's own create() methods send: only the API key authenticates, never an admin key.
    return {"security": {"bearer_auth": True}}


def sdk_error() -> type[Exception]:
    """The base class of every error the openai SDK raises (imported on first use)."""
    import openai

    return openai.OpenAIError


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (number or HTTP date), or None."""
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        return max(0.0, seconds) if math.isfinite(seconds) else None
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


# -- reading JSON payloads -----------------------------------------------------
# Servers (especially "OpenAI-compatible" ones) may leave fields out, send null or the wrong type:
# these read such a field as absent instead of failing.


def get(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int:
    return value if type(value) is int else 0


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_usage(usage: Any, input_key: str, output_key: str) -> Usage:
    input_tokens = as_int(get(usage, input_key))
    output_tokens = as_int(get(usage, output_key))
    return Usage(
        input_tokens, output_tokens, as_int(get(usage, "total_tokens")) or input_tokens + output_tokens
    )
