"""Retries under one deadline: a model's `timeout` bounds the whole request, retries and the waits
between them included. The SDK's own retries give each attempt the whole timeout, so a silent server
kept a person watching the typing dots for three times the setting; here the SDK makes one attempt
and these make the rest, each with the time that is left, and say so before each."""

from __future__ import annotations

import random
import time

from .types import ModelError, ModelRetrying

INITIAL_DELAY = 0.5  # the SDK's backoff: 0.5 s doubling up to 8 s, less up to a quarter of jitter
MAX_DELAY = 8.0
# An attempt with less time than this left is not worth making: it would only time out.
MIN_ATTEMPT_SECONDS = 0.1


def retryable(error: ModelError) -> bool:
    """What the SDK retries: what the server says (`x-should-retry`), else no connection, a timeout,
    408, 409, 429 and 5xx answers."""
    if error.should_retry is not None:
        return error.should_retry
    if error.kind in ("connection", "timeout", "rate_limit"):
        return True
    return error.status_code is not None and (error.status_code in (408, 409) or error.status_code >= 500)


class Attempts:
    """The attempts at one request: how long each may take, and whether another is worth making."""

    def __init__(self, timeout: float, max_retries: int) -> None:
        self.timeout = timeout
        self.max_attempts = max(0, max_retries) + 1
        self.attempt = 1
        self._deadline = time.monotonic() + timeout

    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def next_after(self, error: ModelError) -> ModelRetrying | None:
        """The next attempt after `error`, or None when none is left, the error is final, or the wait
        (the server's Retry-After, else the backoff) would leave too little of the deadline."""
        if self.attempt >= self.max_attempts or not retryable(error):
            return None
        delay = error.retry_after if error.retry_after is not None else self._backoff()
        if self.remaining() - delay < MIN_ATTEMPT_SECONDS:
            return None
        self.attempt += 1
        return ModelRetrying(self.attempt, self.max_attempts, delay, error.message)

    def _backoff(self) -> float:
        delay: float = min(INITIAL_DELAY * 2 ** (self.attempt - 1), MAX_DELAY)
        return delay * (1 - 0.25 * random.random())
