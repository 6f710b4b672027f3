"""The staff status page and the banner: workers seen (heartbeats from a real worker, stopped and
started), the broker and its queue, runs, the model and embedder, pgvector and the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agentapp.observability import services
from agentapp.observability.models import ProcessHeartbeat
from sessions_app.models import Run
from tests import factories
from tests.conftest import PASSWORD

from .workers import start_worker, stop_worker, wait_for

BANNER = 'id="workers-banner"'


def _page(client, url: str = "/status/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def with_workers(settings):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    return settings


@pytest.mark.django_db
def test_only_staff_see_the_status_page(client, alice, bob, staff):
    assert client.get("/status/").url.startswith("/login/")
    for person in ("alice", "bob"):
        client.login(username=person, password=PASSWORD)
        assert client.get("/status/").status_code == 404
        assert "/status/" not in _page(client, "/")  # no link either
    client.login(username="ops", password=PASSWORD)
    page = _page(client)
    assert "<h1>Status</h1>" in page
    assert 'href="/status/"' in _page(client, "/")


@pytest.mark.django_db
def test_the_page_counts_runs_errors_and_stale_runs_and_names_model_embedder_pgvector_and_size(
    client, staff, alice, app_model, settings
):
    settings.CELERY_BROKER_URL = "filesystem://"
    thread = factories.session(alice)
    factories.finished_run(thread, "hi", "hello")
    factories.run(thread, "oops", status=Run.Status.ERROR)
    stale = factories.run(thread, "stuck", status=Run.Status.RUNNING)
    Run.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(hours=2))
    client.login(username="ops", password=PASSWORD)
    page = _page(client)
    assert '<dd id="runs-last-hour">2</dd>' in page
    assert '<dd id="errors-last-hour">1</dd>' in page
    assert '<dd id="runs-stale">1</dd>' in page
    assert (
        f'<ul id="stale-runs"><li><a href="/runs/{stale.run_id}/">{stale.run_id}</a> (running since' in page
    )
    assert '<span id="broker-state" class="ok">reachable</span>' in page
    assert '<code>openai-chat:gpt-test</code> — <span id="model-state">answers</span>' in page
    assert '<span id="embedder-state">ok</span> (none configured' in page
    assert '<dd id="pgvector-state">' in page and '<dd id="database-size">' in page
    assert "0\xa0bytes" not in page.split('id="database-size">')[1][:40]


@pytest.mark.django_db
def test_a_model_that_does_not_answer_and_a_broker_that_is_down_are_shown(client, staff, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    client.login(username="ops", password=PASSWORD)
    page = _page(client)
    assert '<span id="broker-state" class="tl-error">unreachable</span>' in page
    assert '<span id="model-state">not answering</span>' in page  # the test settings' model: nothing listens


@pytest.mark.django_db
def test_a_worker_silent_for_a_minute_brings_the_banner_to_staff_only(client, staff, alice, with_workers):
    services.heartbeat_beat(name="worker:a", kind="worker", hostname="h", pid=1, started_at=timezone.now())
    client.login(username="ops", password=PASSWORD)
    assert BANNER not in _page(client, "/")
    ProcessHeartbeat.objects.update(
        last_seen=timezone.now() - timedelta(seconds=61)
    )  # killed -9 a minute ago
    assert BANNER in _page(client, "/")
    assert BANNER in _page(client, "/memories/")
    assert "<td>silent</td></tr>" in _page(client)
    client.login(username="alice", password=PASSWORD)
    assert BANNER not in _page(client, "/")
    with_workers.AGENT_BACKGROUND_TASKS = "inline"  # no workers needed: no banner
    client.login(username="ops", password=PASSWORD)
    assert BANNER not in _page(client, "/")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_status_page_with_the_worker_stopped_and_started(client, staff, broker, tmp_path, with_workers):
    with_workers.CELERY_BROKER_URL = broker.url
    client.login(username="ops", password=PASSWORD)
    page = _page(client)
    assert "No worker seen for a minute." in page and BANNER in page
    import redis

    waiting = redis.Redis.from_url(broker.url).llen("celery")  # the app's queue, as the broker counts it
    assert f'<ul id="queue-lengths"><li><code>celery</code>: {waiting} waiting</li></ul>' in page

    worker = start_worker(broker, tmp_path, "status", AGENT_HEARTBEAT_SECONDS="1")
    try:
        wait_for(
            lambda: ProcessHeartbeat.objects.filter(kind="worker", stopped_at=None).exists(), "a heartbeat"
        )
        beat = ProcessHeartbeat.objects.get(kind="worker")
        assert beat.pid == worker.pid and beat.name.startswith("worker:status@")
        page = _page(client)
        assert '<p id="workers-state" class="ok">1 worker alive.</p>' in page
        assert f"<code>{beat.name}</code>" in page and BANNER not in page
        first_seen = beat.last_seen
        wait_for(
            lambda: ProcessHeartbeat.objects.get(pk=beat.pk).last_seen > first_seen, "a second heartbeat"
        )
    finally:
        stop_worker(worker)  # a warm shutdown: the worker says it stopped

    assert worker.returncode == 0
    assert ProcessHeartbeat.objects.get(pk=beat.pk).stopped_at is not None
    page = _page(client)
    assert "No worker seen for a minute." in page and BANNER in page
    assert "stopped</td></tr>" in page


@pytest.mark.django_db
def test_the_admin_links_to_the_status_page_and_lists_heartbeats(client, staff, alice):
    services.heartbeat_beat(name="web:h:7", kind="web", hostname="h", pid=7, started_at=timezone.now())
    client.login(username="ops", password=PASSWORD)
    assert '<p id="status-link"><a href="/status/">System status:' in _page(client, "/admin/")
    assert "web:h:7" in _page(client, "/admin/observability/processheartbeat/")
    client.login(username="alice", password=PASSWORD)
    assert client.get("/admin/observability/processheartbeat/").status_code == 302  # the admin's login


@pytest.mark.django_db(transaction=True)
def test_a_web_process_heartbeat_is_written_and_says_when_it_stopped(client, staff, settings):
    from agentapp.observability.heartbeat import Heartbeat

    settings.AGENT_HEARTBEAT_SECONDS = 0.2
    heartbeat = Heartbeat(kind="web", name="web:test:1")
    heartbeat.start()
    try:
        wait_for(
            ProcessHeartbeat.objects.filter(name="web:test:1", stopped_at=None).exists, "a web heartbeat"
        )
        client.login(username="ops", password=PASSWORD)
        assert '<tr class="process process-web"><td>web</td><td><code>web:test:1</code>' in _page(client)
    finally:
        heartbeat.stop()
    assert ProcessHeartbeat.objects.get(name="web:test:1").stopped_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_web_process_that_is_stopped_says_stopped_not_silent(tmp_path, signal_name):
    """A real uvicorn process of the app, stopped as `make run`'s Ctrl-C or a deploy stops it."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    from django.db import connection

    from agentapp.platform.database import database_url

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.failures.worker_settings",
        "DATABASE_URL": database_url(connection),
        "DB_POOL": "0",
        "AGENTAPP_VAR_DIR": str(tmp_path),
        "AGENT_HEARTBEAT_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "agentapp.asgi:application", "--port", str(port)]
    web = subprocess.Popen([*command, "--lifespan", "on"], env=environment)
    try:
        wait_for(ProcessHeartbeat.objects.filter(kind="web", pid=web.pid).exists, "the web heartbeat")
        web.send_signal(getattr(signal, signal_name))
        assert web.wait(timeout=20) in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM once it has stopped
    finally:
        if web.poll() is None:
            web.kill()
    assert ProcessHeartbeat.objects.get(kind="web", pid=web.pid).stopped_at is not None
