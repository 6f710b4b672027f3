from __future__ import annotations

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Traces, metrics, heartbeats, the status page and the health endpoints."""

    name = "agentapp.observability"
    label = "observability"
    verbose_name = "Observability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agentapp.agent import telemetry

        from . import metrics, tracing, worker

        if tracing.tracing_requested():
            tracing.tracing_configure()
        telemetry.add_observer(metrics.OBSERVER)
        worker.connect_signals()
