"""A psycopg pool that comes back within a second of a database restart.

psycopg's pool retries a failed connection with a doubling wait (1, 2, 4, 8, 16, 32 s...), so after
a 30 s outage its next attempt may be half a minute away, and every request waits for it. Here the
wait between attempts is capped at a second, for the pool's whole `reconnect_timeout`.
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool
from psycopg_pool.base import AttemptWithBackoff

MAX_RECONNECT_DELAY = 1.0


class _CappedAttempt(AttemptWithBackoff):
    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, MAX_RECONNECT_DELAY)


class ResilientPool(ConnectionPool):
    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        if attempt is None:
            attempt = _CappedAttempt(timeout=self.reconnect_timeout)
        super()._add_connection(attempt, growing=growing)
