"""The broker is down when a run finishes: the reply is delivered, and the missed work is enqueued later."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from agentapp.celery import app as project_app
from memory_app import selectors as memory_selectors
from memory_app.models import Memory, MemoryExtraction
from sessions_app import selectors as session_selectors
from sessions_app.models import AgentSession, Run, SessionSummary
from sessions_app.tasks import sweep_stale_runs
from tests.fake_openai import RecordedRequest, Reply
from tests.redis_support import redis_or_skip, redis_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit runs as in production

NOTHING_MISSED = {
    "stale": 0,
    "orphaned": 0,
    "titled": 0,
    "frames": 0,
    "temporary": 0,
    "deleted": 0,
    "title": 0,
    "memory": 0,
    "summary": 0,
}

DOWN_BROKER = "redis://127.0.0.1:1/9"  # nothing listens on port 1: connections are refused
OWN_REDIS = "redis://127.0.0.1:6379/9"


def _app(broker_url: str, queue: str) -> Celery:
    app = Celery(f"agentapp-failures-{queue}", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options={"socket_connect_timeout": 2},
        task_default_queue=queue,
        worker_hijack_root_logger=False,
    )
    app.autodiscover_tasks(["sessions_app", "memory_app"], force=True)  # as `celery worker` finds them
    return app


@pytest.fixture
def queue(monkeypatch) -> Iterator[str]:
    # Celery's broker_url setting prefers the CELERY_BROKER_URL environment variable (set in CI) over
    # conf.update(); without this the "down" broker would silently be the real one.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    name = f"failures-{uuid.uuid4().hex[:8]}"
    yield name
    project_app.set_current()
    project_app.set_default()
    try:
        import redis

        redis.Redis.from_url(redis_url(OWN_REDIS), socket_connect_timeout=1).delete(
            f"_kombu.binding.{name}", name
        )
    except Exception:
        pass


def _responder(request: RecordedRequest) -> Reply:
    """The chat reply, the memory manager's tool call and the summary, whatever order they come in."""
    messages = request.body.get("messages") or []
    system = messages[0].get("content") or ""
    if "running summary" in system:
        return Reply(text="Sarah is planning a trip to Lisbon.\nTopics: travel")
    if system.startswith("You maintain long-term memories"):
        if messages[-1].get("role") == "tool":
            return Reply(text="Done.")
        return Reply(tool_calls=[("add_memory", {"memory": "User is called Sarah", "topics": ["name"]})])
    return Reply(text="Nice to meet you, Sarah.")


def test_the_reply_is_delivered_when_the_broker_is_down_and_the_sweep_enqueues_the_lost_work_later(
    app_model, make_agent, settings, queue, caplog
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    settings.AGENT_UPDATE_MEMORY_ON_RUN = True
    settings.AGENT_SESSION_SUMMARIES = True
    settings.AGENT_FOLLOWUP_GRACE_SECONDS = 0
    app_model.responder = _responder
    agent = make_agent("chat", update_memory_on_run=True, enable_session_summaries=True)

    down = _app(DOWN_BROKER, queue)
    down.set_current()
    down.set_default()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="agentapp.celery"):
        output = agent.run("I'm Sarah and I'm planning a trip to Lisbon", user_id="sarah", session_id="trip")
    elapsed = time.monotonic() - started

    assert output.status == "completed" and output.content == "Nice to meet you, Sarah."
    assert elapsed < 10  # the publish gives up quickly (well under a second) instead of hanging the reply
    assert Run.objects.get(run_id=output.run_id).status == Run.Status.COMPLETED
    assert "could not enqueue memory.update_for_run" in caplog.text
    assert "could not enqueue sessions.summary_update" in caplog.text
    assert "could not enqueue sessions.title_for_session" in caplog.text
    assert not MemoryExtraction.objects.exists() and not SessionSummary.objects.exists()
    assert AgentSession.objects.get(session_id="trip").title == ""

    # While the broker is still down the sweep cannot enqueue either, and nothing is marked as done.
    assert sweep_stale_runs() == NOTHING_MISSED

    # The broker is back, with a worker on it: the next sweep hands over what the run missed.
    url = redis_url(OWN_REDIS)
    redis_or_skip(url)
    up = _app(url, queue)
    up.set_current()
    up.set_default()
    with start_worker(up, pool="solo", perform_ping_check=False, queues=[queue], loglevel="WARNING"):
        assert sweep_stale_runs() == {**NOTHING_MISSED, "title": 1, "memory": 1, "summary": 1}
        wait_for(lambda: MemoryExtraction.objects.filter(state="done").exists())
        wait_for(lambda: SessionSummary.objects.exists())
        wait_for(lambda: AgentSession.objects.get(session_id="trip").title != "")

    assert Memory.objects.get().text == "User is called Sarah"
    summary = SessionSummary.objects.get()
    assert summary.text == "Sarah is planning a trip to Lisbon." and summary.last_run.run_id == output.run_id
    # Done once: a later sweep finds nothing missing.
    assert sweep_stale_runs() == NOTHING_MISSED


def _missed(**window) -> dict[str, list[str]]:
    return {
        "memory": memory_selectors.runs_missing_memory_update(**window, lease=timedelta(minutes=4)),
        "summary": session_selectors.sessions_behind_their_summary(**window),
        "title": session_selectors.sessions_missing_title(**window),
    }


def test_the_sweep_looks_only_at_runs_that_settled_within_the_horizon(app_model, make_agent):
    app_model.reply(text="Hello.")
    output = make_agent("chat").run("Hi", user_id="sarah", session_id="trip")  # no follow-ups ran for it
    AgentSession.objects.filter(session_id="trip").update(title="")
    window = {"settled_before": timedelta(minutes=5), "horizon": timedelta(days=1)}
    nothing = {"memory": [], "summary": [], "title": []}

    # Too fresh: its own task may still be on its way.
    assert _missed(**window) == nothing
    # Settled: each missing follow-up is found.
    Run.objects.update(ended_at=timezone.now() - timedelta(minutes=10))
    assert _missed(**window) == {"memory": [output.run_id], "summary": ["trip"], "title": ["trip"]}
    # Too old: before the horizon.
    Run.objects.update(ended_at=timezone.now() - timedelta(days=2))
    assert _missed(**window) == nothing
