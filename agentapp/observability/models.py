from __future__ import annotations

from django.db import models


class ProcessHeartbeat(models.Model):
    """A web or worker process saying it is alive; written every AGENT_HEARTBEAT_SECONDS."""

    KIND_CHOICES = [("web", "web"), ("worker", "worker")]

    name = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"
