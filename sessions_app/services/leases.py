"""Runs that outlive the web process driving them.

A web process driving a run holds a lease on it: a session-level PostgreSQL advisory lock on a
connection of its own (sessions_app/live/lease.py). A process that dies (SIGKILL, the OOM killer, a
deploy past its grace period) loses that connection and with it the lease at once, and nothing
else can tell a dead driver from a slow model. Its text is not lost either: the driver stores its
frames about once a second. A run still `running`, with stored frames and its lease free for
LEASE_SECONDS, is ended here with the text it had and a clear reason, by any web process following
it or by the sweep.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agentapp.platform import sql
from agentapp.platform.storable import storable

from ..models import Message, Run, RunFrame, lease_free_sql
from .live import run_frames_add

# How long a run's lease stays free before the run is taken as abandoned: longer than a driver's
# lease connection takes to come back after a database restart.
LEASE_SECONDS = 10.0
ORPHANED_ERROR = (
    "The server writing this reply stopped before it finished; the text so far is kept. "
    "Regenerate to try again."
)


def runs_orphaned(*, older_than_seconds: float = LEASE_SECONDS) -> list[str]:
    """The running runs with stored frames, begun over `older_than_seconds` ago, whose lease is free."""
    runs, frames = sql.table(Run), sql.table(RunFrame)
    rows = sql.fetch(
        f"SELECT r.run_id FROM {runs} r WHERE r.status = %s "
        "AND r.started_at < now() - make_interval(secs => %s) "
        f"AND EXISTS (SELECT 1 FROM {frames} f WHERE f.run_id = r.id) AND {lease_free_sql('r.run_id')}",
        [Run.Status.RUNNING, older_than_seconds],
    )
    return [run_id for (run_id,) in rows]


def run_end_orphaned(*, run_id: str) -> bool:
    """End a running run whose driver is gone: `error` with the reason, the text of its stored frames
    as its reply (and its assistant message), and its last frame stored and announced. Nothing if it
    ended meanwhile. True when this call ended it."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(run_id=run_id, status=Run.Status.RUNNING).first()
        if run is None:
            return False
        stored = list(RunFrame.objects.filter(run=run).order_by("seq").values_list("seq", "event", "data"))
        text = storable("".join(_content(event, data) for _, event, data in stored))
        if text:
            position = Message.objects.filter(run=run).aggregate(last=Max("position"))["last"]
            Message.objects.create(
                run=run, session_id=run.session_id, role=Message.Role.ASSISTANT, content=text,
                position=(position if position is not None else 0) + 1,
            )  # fmt: skip
        now = timezone.now()
        Run.objects.filter(pk=run.pk).update(
            status=Run.Status.ERROR, error=ORPHANED_ERROR, content=text, ended_at=now
        )
        seq = (stored[-1][0] if stored else -1) + 1
        output = {"content": text, "status": Run.Status.ERROR.value, "error": ORPHANED_ERROR, "metrics": {}}
        ending = {"event": "RunError", "run_id": run_id, "error": ORPHANED_ERROR, "output": output}
        run_frames_add(run_id=run_id, frames=[(seq, "RunError", ending)])
    return True


def _content(event: str, data: Any) -> str:
    if event != "RunContent":
        return ""
    if isinstance(data, str):  # a driver that stores JSON as text
        data = json.loads(data)
    return str(data.get("content", "")) if isinstance(data, dict) else ""
