"""Celery's side: each worker's heartbeat, and each task's span in the trace of the run that sent it
(its W3C trace context travels in the message's headers), its log fields and its follow-up lag."""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from celery import signals
from django.conf import settings
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from agentapp.agent import telemetry

from . import heartbeat, metrics, tracing

logger = logging.getLogger(__name__)

# The follow-up tasks whose lag is measured, by the job they do.
FOLLOWUP_JOBS = {
    "memory.update_for_run": "memory",
    "sessions.summary_update": "summary",
    "sessions.title_for_session": "title",
}
RUN_HEADERS = ("run_id", "session_id", "user_id")
_running: dict[str, tuple[trace.Span, object]] = {}


def _header(task: Any, key: str) -> str | None:
    request = task.request
    value = getattr(request, key, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(key)
    return str(value) if value is not None else None


def task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task is None or task_id is None:
        return
    carrier = {key: value for key in ("traceparent", "tracestate") if (value := _header(task, key))}
    parent = propagate.extract(carrier)
    fields = {key: value for key in RUN_HEADERS if (value := _header(task, f"agentapp_{key}"))}
    span = telemetry.tracer().start_span(
        f"followup {task.name}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "celery",
            "messaging.operation.name": "process",
            "celery.task_name": task.name,
            **{f"agentapp.{key}": value for key, value in fields.items()},
        },
    )
    token = otel_context.attach(trace.set_span_in_context(span))
    _running[task_id] = (span, token)
    trace_id = trace.format_trace_id(span.get_span_context().trace_id) if span.is_recording() else ""
    telemetry.set_log_fields({**fields, **({"trace_id": trace_id} if trace_id else {})})


def task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    telemetry.set_log_fields(None)
    entry = _running.pop(task_id or "", None)
    if entry is not None:
        span, token = entry
        if state not in (None, "SUCCESS"):
            span.set_status(Status(StatusCode.ERROR, state))
        span.end()
        otel_context.detach(token)  # type: ignore[arg-type]
    if task is None or state != "SUCCESS" or task.name not in FOLLOWUP_JOBS:
        return
    ended_at = _header(task, "agentapp_run_ended_at")
    if ended_at:
        metrics.followup_applied(job=FOLLOWUP_JOBS[task.name], lag_s=time.time() - float(ended_at))


def worker_ready(sender: Any = None, **_: Any) -> None:
    hostname = getattr(sender, "hostname", None) or socket.gethostname()
    heartbeat.heartbeat_start(kind="worker", name=f"worker:{hostname}:{os.getpid()}")


def worker_shutdown(**_: Any) -> None:
    heartbeat.heartbeat_stop()


def worker_process_stopping(**_: Any) -> None:
    # A pool process may end without running exit handlers: its last spans go out now.
    tracing.tracing_flush()


def keep_django_logging(**_: Any) -> None:
    """With JSON logs a worker keeps Django's LOGGING (LOG_LEVEL, the JSON lines): a receiver of
    setup_logging tells Celery to configure none of its own."""


def connect_signals() -> None:
    if settings.LOG_FORMAT == "json":
        signals.setup_logging.connect(
            keep_django_logging, weak=False, dispatch_uid="agentapp.observability.logs"
        )
    signals.task_prerun.connect(task_started, weak=False, dispatch_uid="agentapp.observability.prerun")
    signals.task_postrun.connect(task_finished, weak=False, dispatch_uid="agentapp.observability.postrun")
    signals.worker_ready.connect(worker_ready, weak=False, dispatch_uid="agentapp.observability.ready")
    signals.worker_shutdown.connect(worker_shutdown, weak=False, dispatch_uid="agentapp.observability.stop")
    signals.worker_process_shutdown.connect(
        worker_process_stopping, weak=False, dispatch_uid="agentapp.observability.process_stop"
    )
