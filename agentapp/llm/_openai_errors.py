"""How the OpenAI adapters turn what the SDK raises into `ModelError`s, with credentials kept out."""

from __future__ import annotations

import email.utils
import json
import math
import os
import re
import time
from typing import TYPE_CHECKING, Any

from .types import ModelError

if TYPE_CHECKING:
    import openai

_MAX_SERVER_MESSAGE = 300
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")
# Raised by the SDK's `response.json()` for a body labelled JSON that is not.
UNREADABLE_JSON = (json.JSONDecodeError, UnicodeDecodeError)


class ErrorMapping:
    """Mixed into the adapters: what a failed request or stream becomes, for a model with `timeout`,
    `base_url` and `_api_key`."""

    timeout: float
    base_url: str
    _api_key: str | None

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
        error = self._status_error(exc)
        said = exc.response.headers.get("x-should-retry")
        error.should_retry = {"true": True, "false": False}.get(said) if said else None
        return error

    def _status_error(self, exc: openai.APIStatusError) -> ModelError:
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
