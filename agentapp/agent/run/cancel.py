"""The runs going in this process, and those asked to stop (`Agent.cancel_run`, from any thread).

A run asked to stop ends at its next step as cancelled, keeping what was said.
"""

from __future__ import annotations

import threading

_RUNNING: set[str] = set()
_CANCELLED: set[str] = set()
_LOCK = threading.Lock()


def started(run_id: str) -> None:
    with _LOCK:
        _RUNNING.add(run_id)


def ask(run_id: str) -> bool:
    """Ask a run of this process to stop; False for a run not going here."""
    with _LOCK:
        if run_id not in _RUNNING:
            return False
        _CANCELLED.add(run_id)
    return True


def asked(run_id: str) -> bool:
    return run_id in _CANCELLED


def ended(run_id: str) -> None:
    with _LOCK:
        _RUNNING.discard(run_id)
        _CANCELLED.discard(run_id)
