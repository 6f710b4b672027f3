"""Live runs between web processes: frames stored and announced on one PostgreSQL channel (the
listeners are in sessions_app/live/)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection

from agentapp.platform import sql
from agentapp.platform.storable import storable_json

from ..models import Run, RunFrame

# The channel (PostgreSQL LISTEN/NOTIFY) on which web processes tell each other about live runs:
# frames stored ({"run", "seq"}), a Stop ({"cancel"}), a stream elsewhere that wants them ({"watch"}).
RUNS_CHANNEL = "agentapp_runs"


def runs_notify(*, message: dict[str, Any]) -> None:
    """Tell every web process about a live run (delivered on commit; the listeners are in live/)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [RUNS_CHANNEL, json.dumps(message)])


def run_frames_add(*, run_id: str, frames: Sequence[tuple[int, str, dict[str, Any]]]) -> None:
    """Store frames of a live run and announce them, in one statement. Idempotent: a frame already
    stored (a retry after a lost answer) is left alone; a deleted run stores nothing."""
    if not frames:
        return
    values = ", ".join(["(%s::int, %s::text, %s::jsonb)"] * len(frames))
    params: list[Any] = []
    for seq, event, data in frames:
        params += [seq, event, json.dumps(storable_json(data))]
    notice = json.dumps({"run": run_id, "seq": frames[-1][0]})
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH added AS (INSERT INTO {sql.table(RunFrame)} (run_id, seq, event, data) "
            f"SELECT r.id, v.seq, v.event, v.data FROM {sql.table(Run)} r, "
            f"(VALUES {values}) AS v(seq, event, data) "
            "WHERE r.run_id = %s ON CONFLICT DO NOTHING) SELECT pg_notify(%s, %s)",
            [*params, run_id, RUNS_CHANNEL, notice],
        )
