"""Each process's heartbeat: a daemon thread writing a row every AGENT_HEARTBEAT_SECONDS (a Celery
worker from its ready signal, a web process when the ASGI application loads), and the row marked
stopped when the process stops (a worker from Celery's shutdown signal, a web process from the ASGI
lifespan's shutdown in agentapp/asgi.py or, failing that, at exit)."""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from datetime import UTC, datetime

from django.conf import settings
from django.db import close_old_connections, connection

from . import services

logger = logging.getLogger(__name__)


class Heartbeat:
    """A daemon thread writing this process's heartbeat every AGENT_HEARTBEAT_SECONDS."""

    def __init__(self, *, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        self.started_at = datetime.now(UTC)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{kind}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _beat(self) -> None:
        try:
            close_old_connections()
            services.heartbeat_beat(
                name=self.name,
                kind=self.kind,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                started_at=self.started_at,
            )
        except Exception as exc:  # a database away: the next beat tries again
            logger.warning("heartbeat of %s not written: %s", self.name, exc)
        finally:
            connection.close()

    def _run(self) -> None:
        while not self.stopping.is_set():
            self._beat()
            self.stopping.wait(settings.AGENT_HEARTBEAT_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        try:
            services.heartbeat_stop(name=self.name)
        except Exception as exc:
            logger.warning("heartbeat of %s not marked stopped: %s", self.name, exc)
        finally:
            connection.close()


_heartbeat: Heartbeat | None = None


def heartbeat_start(*, kind: str, name: str) -> Heartbeat | None:
    global _heartbeat
    if _heartbeat is None and settings.AGENT_HEARTBEAT_SECONDS > 0:
        _heartbeat = Heartbeat(kind=kind, name=name)
        _heartbeat.start()
        if kind == "web":  # a worker says goodbye from Celery's shutdown signal; a web process at exit
            atexit.register(heartbeat_stop)
    return _heartbeat


def heartbeat_stop() -> None:
    """This process stops: its row says so at once (the status page need not wait for silence)."""
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None
