"""Where the tests that need a real Celery worker find Redis, or why they skip."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def wait_for(condition, timeout: float = 20.0) -> None:
    """Until `condition()` holds: what a real worker does takes its own time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.05)


def redis_url(default: str) -> str:
    """CI's broker (CELERY_BROKER_URL) when it is Redis, else `default` (a db number of the test's own)."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis://") else default


def redis_or_skip(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs Redis at {url} for a real Celery worker ({exc})")


@contextmanager
def redis_worker(name: str, default_url: str) -> Iterator:
    """A Celery app like the project's, on Redis, with a queue of its own and a worker on it (in this
    process, Celery's own test harness); then the project's app is current again."""
    from celery import Celery
    from celery.contrib.testing.worker import start_worker

    import memory_app.tasks  # noqa: F401  # the shared tasks, registered with every app
    import sessions_app.tasks  # noqa: F401
    from agentapp.celery import app as project_app

    url = redis_url(default_url)
    redis_or_skip(url)
    app = Celery(name, set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    queue = f"{name}-{uuid.uuid4().hex[:8]}"
    app.conf.update(
        broker_url=url,
        broker_transport_options={},
        result_backend=url,
        result_expires=300,
        task_default_queue=queue,
        worker_hijack_root_logger=False,
    )
    app.set_default()  # also for the other threads that send tasks (the uvicorn server's)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], loglevel="WARNING"):
            yield app
    finally:
        project_app.set_current()
        project_app.set_default()
        import redis

        redis.Redis.from_url(url).delete(
            f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}", queue
        )
