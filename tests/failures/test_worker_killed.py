"""A Celery worker killed (-9) in the middle of its work: the work is applied exactly once, soon after.

Two kinds of kill: the whole worker (a deploy gone wrong, the machine's OOM killer taking the main
process), whose unacknowledged message comes back only after the broker's visibility timeout; and
one pool child (the OOM killer's usual victim), whose message the main process hands back at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from agentapp.celery import app as project_app
from agentapp.platform.database import database_url
from memory_app.models import Memory, MemoryChange, MemoryExtraction
from sessions_app.models import AgentSession, RunEvent, SessionSummary
from sessions_app.tasks import session_summary_update
from tests.redis_support import redis_url

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
OWN_REDIS = "redis://127.0.0.1:6379/9"
LEASE_SECONDS = 3  # the workers' follow-up lease, instead of four minutes


@pytest.fixture
def broker() -> Iterator[tuple[str, str]]:
    import redis

    url = redis_url(OWN_REDIS)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs Redis at {url} for a real Celery worker ({exc})")
    queue = f"killed-{uuid.uuid4().hex[:8]}"
    yield url, queue
    project_app.set_current()
    project_app.set_default()
    redis.Redis.from_url(url).delete(f"_kombu.binding.{queue}", queue)


def _start_worker(
    url: str, queue: str, fake_openai, tmp_path: Path, name: str, *, pool: str = "solo"
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.failures.worker_settings",
        "DATABASE_URL": database_url(connection),  # the test database, so the worker sees its rows
        "DB_POOL": "0",
        "CELERY_BROKER_URL": url,
        "AGENT_MODEL": "chat:gpt-test",
        "OPENAI_BASE_URL": fake_openai.base_url,
        "OPENAI_API_KEY": "sk-test-secret-123",
        "AGENT_BACKGROUND_TASKS": "celery",
        "AGENT_SESSION_SUMMARIES": "1",
        "AGENT_UPDATE_MEMORY_ON_RUN": "1",
        "AGENT_FOLLOWUP_LEASE_SECONDS": str(LEASE_SECONDS),
        "AGENTAPP_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "celery", "-A", "agentapp", "worker", f"--pool={pool}", "-Q", queue]
    if pool == "prefork":
        command.append("--concurrency=1")
    command += ["-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def _summary_requests(fake_openai) -> int:
    return sum(
        "running summary" in (r.body["messages"][0].get("content") or "") for r in fake_openai.requests
    )


def test_a_summary_task_whose_worker_is_killed_is_redelivered_and_applied_exactly_once(
    broker, make_agent, fake_openai, tmp_path
):
    url, queue = broker
    fake_openai.reply(text="Lisbon in May sounds lovely.")
    output = make_agent("chat").run("I'm going to Lisbon in May", user_id="sarah", session_id="trip")
    fake_openai.reply(text="Sarah plans a trip to Lisbon in May.\nTopics: travel", delay=30)  # never sent
    fake_openai.reply(text="Sarah plans a trip to Lisbon in May.\nTopics: travel")

    sender = Celery("agentapp-killed-test", set_as_current=False)
    sender.config_from_object("django.conf:settings", namespace="CELERY")
    sender.conf.update(
        broker_url=url, broker_transport_options={}, result_backend=url, task_default_queue=queue
    )
    sender.set_current()
    sender.set_default()
    session_summary_update.delay("trip")

    first = _start_worker(url, queue, fake_openai, tmp_path, "first")
    second = None
    try:
        _wait_for(lambda: _summary_requests(fake_openai) == 1, 60, "the first worker's summary request")
        first.send_signal(signal.SIGKILL)  # mid-task: the message was taken but never acknowledged
        first.wait(timeout=10)
        assert not SessionSummary.objects.exists()

        second = _start_worker(url, queue, fake_openai, tmp_path, "second")
        _wait_for(lambda: SessionSummary.objects.exists(), 60, "the redelivered task on the second worker")
        # A duplicate delivery (a second enqueue, the sweep) finds nothing left to fold.
        duplicate = session_summary_update.apply_async(args=["trip"], ignore_result=False)
        duplicate.get(timeout=30)
    finally:
        _stop(first)
        if second is not None:
            _stop(second)

    summary = SessionSummary.objects.get()
    assert summary.text == "Sarah plans a trip to Lisbon in May." and summary.topics == ["travel"]
    assert summary.last_run.run_id == output.run_id
    assert _summary_requests(fake_openai) == 2  # the killed request and the redelivered one
    folds = RunEvent.objects.filter(kind="summary")
    assert [event.payload["applied"] for event in folds] == [True]


# --- the automatic memory update, killed mid-task -------------------------------------------------
def _sender(url: str, queue: str) -> Celery:
    sender = Celery("agentapp-killed-test", set_as_current=False)
    sender.config_from_object("django.conf:settings", namespace="CELERY")
    sender.conf.update(broker_url=url, broker_transport_options={}, task_default_queue=queue)
    sender.set_current()
    sender.set_default()
    return sender


def _memory_manager_requests(fake_openai) -> int:
    return sum(
        (r.body["messages"][0].get("content") or "").startswith("You maintain long-term memories")
        for r in fake_openai.requests
    )


def _finished_run(make_agent, fake_openai) -> str:
    """A completed run whose memory update is left to the workers (nothing runs it here)."""
    fake_openai.reply(text="Nice to meet you, Sarah.")
    output = make_agent("chat").run("I'm Sarah", user_id="sarah", session_id="meet")
    AgentSession.objects.filter(session_id="meet").update(title="Meeting")  # no title job to muddle the count
    return output.run_id


def _script_the_memory_manager(fake_openai) -> None:
    fake_openai.reply(text="never sent", delay=60)  # the killed worker's request: it never gets an answer
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User is called Sarah", "topics": ["name"]})])
    fake_openai.reply(text="Done.")


def _applied_once(run_id: str, fake_openai) -> None:
    assert [m.text for m in Memory.objects.all()] == ["User is called Sarah"]
    assert MemoryChange.objects.count() == 1
    extraction = MemoryExtraction.objects.get(run__run_id=run_id)
    assert extraction.state == "done" and extraction.attempts == 2  # the killed claim, then the one that won
    assert _memory_manager_requests(fake_openai) == 3  # the killed request, then one exchange of two


def test_a_memory_update_whose_pool_child_is_killed_is_applied_once_when_its_claim_expires(
    broker, make_agent, fake_openai, tmp_path
):
    """Was: the redelivered task found the killed claim `running`, skipped, and the update was lost."""
    import psutil

    url, queue = broker
    run_id = _finished_run(make_agent, fake_openai)
    _script_the_memory_manager(fake_openai)
    _sender(url, queue).send_task("memory.update_for_run", args=[run_id])

    worker = _start_worker(url, queue, fake_openai, tmp_path, "prefork", pool="prefork")
    try:
        _wait_for(lambda: _memory_manager_requests(fake_openai) == 1, 60, "the first memory-manager request")
        [child] = psutil.Process(worker.pid).children()
        child.kill()  # as the OOM killer takes a pool process; the main process lives on
        _wait_for(lambda: MemoryExtraction.objects.filter(state="done").exists(), 60, "the update, once")
    finally:
        _stop(worker)

    _applied_once(run_id, fake_openai)


def test_a_memory_update_whose_whole_worker_is_killed_is_applied_once_by_the_sweep(
    broker, make_agent, fake_openai, tmp_path, settings
):
    """The whole worker gone: the sweep sends the work again once the claim expires, long before the
    broker would hand the message back (an hour on Redis by default)."""
    from sessions_app import jobs

    settings.AGENT_BACKGROUND_TASKS = "celery"
    settings.AGENT_UPDATE_MEMORY_ON_RUN = True
    settings.AGENT_FOLLOWUP_GRACE_SECONDS = 0
    settings.AGENT_FOLLOWUP_LEASE_SECONDS = LEASE_SECONDS
    url, queue = broker
    run_id = _finished_run(make_agent, fake_openai)
    _script_the_memory_manager(fake_openai)
    _sender(url, queue).send_task("memory.update_for_run", args=[run_id])

    first = _start_worker(url, queue, fake_openai, tmp_path, "first")
    second = None
    try:
        _wait_for(lambda: _memory_manager_requests(fake_openai) == 1, 60, "the first memory-manager request")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert jobs.sweep()["memory"] == 0  # the claim is still within its lease
        time.sleep(LEASE_SECONDS + 0.5)
        assert jobs.sweep()["memory"] == 1  # expired: sent again

        second = _start_worker(url, queue, fake_openai, tmp_path, "second")
        _wait_for(lambda: MemoryExtraction.objects.filter(state="done").exists(), 60, "the update, once")
        time.sleep(LEASE_SECONDS + 2)  # the killed worker's own message comes back too: it applies nothing
        assert jobs.sweep()["memory"] == 0
    finally:
        _stop(first)
        if second is not None:
            _stop(second)

    _applied_once(run_id, fake_openai)
