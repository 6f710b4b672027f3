"""Prometheus metrics (prometheus-client): what every process counts, and what /metrics reads.

With PROMETHEUS_MULTIPROC_DIR set (before the process starts) each process writes its counts to
files there and /metrics sums them, so several web workers and Celery workers on one host add up.
Queue depth and memories per person are read when /metrics is scraped. This module imports no
Django at the top: the runtime's observer is all a process needs to count.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

RUNS = Counter("agentapp_runs", "Runs finished, by status and model", ["status", "model"])
TIME_TO_FIRST_TOKEN = Histogram(
    "agentapp_run_time_to_first_token_seconds",
    "From a run's start to its first token",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
RUN_DURATION = Histogram(
    "agentapp_run_duration_seconds", "From a run's start to its end", ["model"], buckets=LATENCY_BUCKETS
)
TOKENS = Counter("agentapp_tokens", "Tokens sent to and received from the model", ["direction", "model"])
MODEL_ERRORS = Counter("agentapp_model_errors", "Failed model requests, by kind", ["model", "kind"])
FOLLOWUP_LAG = Histogram(
    "agentapp_followup_lag_seconds",
    "From a run's end to its follow-up applied (memory update, summary, title)",
    ["job"],
    buckets=LAG_BUCKETS,
)
FEEDBACK = Counter(
    "agentapp_feedback",
    "Replies rated by their person: a rating given or changed (a comment alone counts nothing)",
    ["rating"],
)
for _rating in ("up", "down"):  # both series exist from the start, at 0
    FEEDBACK.labels(rating=_rating)
ACTIVE_STREAMS = Gauge(
    "agentapp_active_streams",
    "Replies streaming to a browser or an API client now",
    multiprocess_mode="livesum",
)


class MetricsObserver:
    """The runtime's RunObserver (agentapp.agent.telemetry): counts each run and failed request."""

    def run_finished(
        self,
        *,
        status: str,
        model: str,
        duration_s: float,
        ttft_s: float | None,
        input_tokens: int,
        output_tokens: int,
    ) -> None:
        RUNS.labels(status=status, model=model).inc()
        RUN_DURATION.labels(model=model).observe(duration_s)
        if ttft_s is not None:
            TIME_TO_FIRST_TOKEN.labels(model=model).observe(ttft_s)
        if input_tokens:
            TOKENS.labels(direction="input", model=model).inc(input_tokens)
        if output_tokens:
            TOKENS.labels(direction="output", model=model).inc(output_tokens)

    def model_failed(self, *, model: str, kind: str) -> None:
        MODEL_ERRORS.labels(model=model, kind=kind).inc()


OBSERVER = MetricsObserver()


@contextmanager
def streaming() -> Iterator[None]:
    """One more reply streaming while inside (a chat's SSE stream, an API run's event stream)."""
    ACTIVE_STREAMS.inc()
    try:
        yield
    finally:
        ACTIVE_STREAMS.dec()


def feedback_given(*, rating: str) -> None:
    """A person rated a reply (or changed their rating): counted by the chat and the API, which give it."""
    FEEDBACK.labels(rating=rating).inc()


def followup_applied(*, job: str, lag_s: float) -> None:
    FOLLOWUP_LAG.labels(job=job).observe(max(0.0, lag_s))


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()


def _forget_this_process() -> None:
    # A live gauge of a process that exited must not count; its counters stay (they are sums).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid(), multiprocess_dir())


if multiprocess_dir():
    atexit.register(_forget_this_process)
