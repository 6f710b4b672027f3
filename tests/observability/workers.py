"""Real Celery worker processes on Redis for the observability tests (each test its own queue)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from agentapp.celery import app as project_app
from agentapp.platform.database import database_url
from tests.redis_support import redis_url

ROOT = Path(__file__).resolve().parents[2]
OWN_REDIS = "redis://127.0.0.1:6379/10"


@dataclass
class Broker:
    url: str
    queue: str

    def sender(self) -> Celery:
        """The project's configuration on this broker and queue, current for send_task()."""
        sender = Celery("agentapp-observability-test", set_as_current=False)
        sender.config_from_object("django.conf:settings", namespace="CELERY")
        sender.conf.update(broker_url=self.url, broker_transport_options={}, task_default_queue=self.queue)
        sender.set_current()
        sender.set_default()
        return sender


@pytest.fixture
def broker() -> Iterator[Broker]:
    import redis

    url = redis_url(OWN_REDIS)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs Redis at {url} for a real Celery worker ({exc})")
    queue = f"obs-{uuid.uuid4().hex[:8]}"
    yield Broker(url, queue)
    project_app.set_current()
    project_app.set_default()
    redis.Redis.from_url(url).delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}", queue)


def start_worker(broker: Broker, tmp_path: Path, name: str, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.observability.worker_settings",
        "TEST_QUEUE": broker.queue,
        "DATABASE_URL": database_url(connection),  # the test database, so the worker sees its rows
        "DB_POOL": "0",
        "CELERY_BROKER_URL": broker.url,
        "AGENT_BACKGROUND_TASKS": "celery",
        "AGENTAPP_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "agentapp", "worker", "--pool=solo", "-Q", broker.queue]
    command += ["-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)


def stop_worker(process: subprocess.Popen, *, graceful: bool = True) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
