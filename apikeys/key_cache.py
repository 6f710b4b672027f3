"""Recently checked API keys, kept in this process so that a busy client's requests skip the key's
lookup and its person's permissions: each entry for at most AGENT_KEY_CACHE_SECONDS, and only
while this process listens for revocations.

Any change that could take a key's rights away (a key revoked or deleted, its person deactivated,
deleted or given other permissions or groups, a group's permissions changed) sends a NOTIFY on
KEYS_CHANNEL when its transaction commits (signals.py). A thread of this process LISTENs; each
notice (and each reconnect) starts a new generation, and an entry from an older one is not used. So
a revoked key stops working here within the notice's delivery, milliseconds, not the entry's age;
while the listener is not connected, nothing is cached and every request looks the key up.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
import time
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import connection

from agentapp.platform.database import libpq_params

from .models import ApiKey

logger = logging.getLogger(__name__)

KEYS_CHANNEL = "apikeys_changed"
RETRY_SECONDS = 1.0

_lock = threading.Lock()
_entries: dict[str, tuple[int, float, ApiKey]] = {}  # key hash -> (generation, expires, key)
_generation = 0
_listening = False
_listener: _Listener | None = None


def enabled() -> bool:
    return settings.AGENT_KEY_CACHE_SECONDS > 0


def generation() -> int:
    """Read before looking a key up; `remember` keeps the result only if no change came in between."""
    _ensure_listener()
    return _generation


def cached(digest: str) -> ApiKey | None:
    """A copy of the key (and its person, with their permissions) checked earlier, if still good."""
    with _lock:
        entry = _entries.get(digest)
        if entry is None:
            return None
        born, expires, key = entry
        if not _listening or born != _generation or time.monotonic() >= expires:
            del _entries[digest]
            return None
    found = copy.copy(key)  # the request's own objects: nothing it sets reaches the next request
    found.user = copy.copy(key.user)
    return found


def remember(digest: str, key: ApiKey, born: int) -> None:
    if not enabled():
        return
    key.user.get_all_permissions()  # computed once, kept on the user with the entry
    with _lock:
        if _listening and born == _generation:
            _entries[digest] = (born, time.monotonic() + settings.AGENT_KEY_CACHE_SECONDS, key)


def note_use(digest: str, when: datetime | None) -> None:
    """The key's `last_used_at` as just written, so the next requests do not write it again."""
    with _lock:
        if (entry := _entries.get(digest)) is not None:
            entry[2].last_used_at = when


def forget_all() -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def stop_listening() -> None:
    """For tests and a process's end: the listener closes its connection; the cache empties."""
    global _listener
    listener, _listener = _listener, None
    if listener is not None:
        listener.stop()
    forget_all()


def _set_listening(value: bool) -> None:
    global _listening
    forget_all()
    _listening = value


def _ensure_listener() -> None:
    global _listener
    if not enabled() or (_listener is not None and _listener.is_alive()):
        return
    with _lock:
        if _listener is None or not _listener.is_alive():
            _listener = _Listener(libpq_params(connection))
            _listener.start()


class _Listener(threading.Thread):
    def __init__(self, params: dict[str, object]) -> None:
        super().__init__(name="apikeys-listener", daemon=True)
        self.params = params
        self.stopping = threading.Event()
        self.conn: psycopg.Connection[tuple[object, ...]] | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(**self.params, autocommit=True) as conn:  # type: ignore[arg-type]
                    self.conn = conn
                    conn.execute(f"LISTEN {KEYS_CHANNEL}")
                    _set_listening(True)
                    while not self.stopping.is_set():
                        for _notice in conn.notifies(timeout=1.0):
                            forget_all()
            except Exception as error:  # the database away, a restart: nothing cached until back
                if not self.stopping.is_set():
                    logger.warning("listening for API key changes: %s; again in %.0f s", error, RETRY_SECONDS)
            finally:
                _set_listening(False)
                self.conn = None
            self.stopping.wait(RETRY_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
