"""The status page's reads: processes seen, runs of the last hour, feedback of the last day, the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from memory_app.models import Memory
from sessions_app.models import Run, RunFeedback

from .models import ProcessHeartbeat

# A worker not heard from for this long is taken as gone (its heartbeat comes every few seconds).
WORKER_SILENCE = timedelta(seconds=60)


def heartbeats_recent(*, within: timedelta = timedelta(hours=1)) -> list[ProcessHeartbeat]:
    return list(ProcessHeartbeat.objects.filter(last_seen__gte=timezone.now() - within))


def workers_alive(*, within: timedelta = WORKER_SILENCE) -> int:
    since = timezone.now() - within
    return ProcessHeartbeat.objects.filter(
        kind="worker", stopped_at__isnull=True, last_seen__gte=since
    ).count()


@dataclass(frozen=True)
class RunFigures:
    last_hour: int
    errors_last_hour: int
    stale: int
    running: int


def run_figures() -> RunFigures:
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.AGENT_STALE_RUN_SECONDS)
    figures = Run.objects.aggregate(
        last_hour=Count("pk", filter=Q(created_at__gte=now - timedelta(hours=1))),
        errors=Count("pk", filter=Q(created_at__gte=now - timedelta(hours=1), status="error")),
        stale=Count("pk", filter=Q(status__in=("running", "pending"), created_at__lt=stale_before)),
        running=Count("pk", filter=Q(status="running")),
    )
    return RunFigures(figures["last_hour"], figures["errors"], figures["stale"], figures["running"])


@dataclass(frozen=True)
class FeedbackFigures:
    up: int
    down: int


def feedback_figures(*, within: timedelta = timedelta(days=1)) -> FeedbackFigures:
    """The replies rated up and down in the last day (given, or given again, then)."""
    since = timezone.now() - within
    figures = RunFeedback.objects.filter(updated_at__gte=since).aggregate(
        up=Count("pk", filter=Q(rating=RunFeedback.Rating.UP)),
        down=Count("pk", filter=Q(rating=RunFeedback.Rating.DOWN)),
    )
    return FeedbackFigures(figures["up"], figures["down"])


def runs_stale(*, limit: int = 10) -> list[Run]:
    """The oldest runs still running or pending past AGENT_STALE_RUN_SECONDS (the sweep ends them)."""
    stale_before = timezone.now() - timedelta(seconds=settings.AGENT_STALE_RUN_SECONDS)
    stale = Run.objects.filter(status__in=("running", "pending"), created_at__lt=stale_before)
    return list(stale.select_related("user").order_by("created_at")[:limit])


def database_size_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def memories_per_person() -> list[int]:
    """How many live memories each person with any has (for the metrics' summary)."""
    rows = (
        Memory.objects.filter(deleted_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
    return list(rows)
