"""A psycopg pool that comes back within a second of a database restart, and that makes a request
wait its turn while every connection is busy.

psycopg's pool retries a failed connection with a doubling wait (1, 2, 4, 8, 16, 32 s...), so after
a 30 s outage its next attempt may be half a minute away, and every request waits for it. Here the
wait between attempts is capped at a second, for the pool's whole `reconnect_timeout`.

The pool's `timeout` is how long a request waits for a connection before it is told the database is
unavailable. That is right when the database is away, wrong when it is merely busy: a burst of
streamed runs larger than the pool failed some runs mid-reply. So a request whose wait ran out while
connections were lent out and none failed meanwhile waits again, up to
`busy_timeout`; one that saw a connection fail (an outage) is refused at once, as before.
"""

from __future__ import annotations

import logging
import threading
from time import monotonic
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool, PoolTimeout
from psycopg_pool.base import AttemptWithBackoff

logger = logging.getLogger(__name__)
MAX_RECONNECT_DELAY = 1.0
BUSY_TIMEOUT = 120.0


class _CappedAttempt(AttemptWithBackoff):
    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, MAX_RECONNECT_DELAY)


class ResilientPool(ConnectionPool):
    def __init__(self, *args: Any, busy_timeout: float = BUSY_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.busy_timeout = busy_timeout
        self._lent = 0  # connections taken and not given back yet
        self._lent_lock = threading.Lock()

    def getconn(self, timeout: float | None = None) -> Connection[Any]:
        conn = self._getconn_busy_or_not(timeout)
        with self._lent_lock:
            self._lent += 1
        return conn

    def putconn(self, conn: Connection[Any]) -> None:
        with self._lent_lock:
            self._lent -= 1
        super().putconn(conn)

    def _getconn_busy_or_not(self, timeout: float | None) -> Connection[Any]:
        if timeout is not None:
            return super().getconn(timeout)
        deadline = monotonic() + self.busy_timeout
        while True:
            failures = self._failures()
            try:
                return super().getconn()
            except PoolTimeout:
                # Someone holds a working connection and none failed meanwhile: the database is up.
                failed = self._failures() - failures
                if not self._lent or failed or monotonic() >= deadline:
                    logger.warning(
                        "no database connection within %.1f s: %d lent out, %d failed meanwhile, %s",
                        self.timeout,
                        self._lent,
                        failed,
                        self.get_stats(),
                    )
                    raise

    def _failures(self) -> int:
        """Connections that could not be opened or failed their check when taken, so far."""
        return self._stats[self._CONNECTIONS_ERRORS] + self._stats[self._CONNECTIONS_LOST]

    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        if attempt is None:
            attempt = _CappedAttempt(timeout=self.reconnect_timeout)
        super()._add_connection(attempt, growing=growing)
