"""The heartbeat writes: each process says it is alive, and that it stopped."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from .models import ProcessHeartbeat

FORGET_AFTER = timedelta(days=1)


def heartbeat_beat(*, name: str, kind: str, hostname: str, pid: int, started_at: datetime) -> None:
    now = timezone.now()
    ProcessHeartbeat.objects.update_or_create(
        name=name,
        defaults={
            "kind": kind,
            "hostname": hostname,
            "pid": pid,
            "started_at": started_at,
            "last_seen": now,
            "stopped_at": None,
        },
    )
    # Processes gone for a day are forgotten (a deploy's replaced workers), in the same beat.
    ProcessHeartbeat.objects.filter(last_seen__lt=now - FORGET_AFTER).delete()


def heartbeat_stop(*, name: str) -> None:
    now = timezone.now()
    ProcessHeartbeat.objects.filter(name=name).update(stopped_at=now, last_seen=now)
