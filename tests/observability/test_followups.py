"""The work after a run, done by a real Celery worker: its spans join the run's trace (the W3C trace
context travels in the task's headers), and its lag from the run's end is a metric."""

from __future__ import annotations

import json

import pytest

from agentapp.app_agent import CeleryFollowups
from sessions_app.models import AgentSession
from tests.fake_openai import Reply

from .workers import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

KIND_CONSUMER = 5


def test_follow_ups_done_by_a_worker_are_spans_of_the_runs_trace_and_their_lag_is_counted(
    broker, tracing, make_agent, fake_openai, tmp_path, client, settings
):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    broker.sender()
    fake_openai.reply(text="Jazz it is.")
    agent = make_agent(
        "chat", followups=CeleryFollowups(), update_memory_on_run=True, enable_session_summaries=True
    )
    output = agent.run("I like jazz", user_id="sarah", session_id="jazz")
    assert tracing.flush()
    (run,) = [s for s in tracing.named("invoke_agent") if s.attributes["agentapp.run_id"] == output.run_id]

    def worker_model(request):
        messages = request.body["messages"]
        manager = (messages[0].get("content") or "").startswith("You maintain long-term memories")
        if manager and not any(m["role"] == "tool" for m in messages):
            return Reply(tool_calls=[("add_memory", {"memory": "Sarah likes jazz"})])
        return Reply(text="Sarah likes jazz\nTopics: music")

    fake_openai.responder = worker_model
    worker = start_worker(
        broker,
        tmp_path,
        "followups",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=tracing.traces_url,
        OTEL_BSP_SCHEDULE_DELAY="100",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        AGENT_MODEL="chat:gpt-test",
        OPENAI_BASE_URL=fake_openai.base_url,
        OPENAI_API_KEY="sk-test-secret-123",
        AGENT_SESSION_SUMMARIES="1",
        AGENT_UPDATE_MEMORY_ON_RUN="1",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    names = {
        "followup memory.update_for_run",
        "followup sessions.summary_update",
        "followup sessions.title_for_session",
    }
    try:
        wait_for(
            lambda: names | {"followup memory.embed"} <= {s.name for s in tracing.in_trace(run.trace_id)},
            "the worker's follow-up spans in the run's trace",
        )
    finally:
        stop_worker(worker)

    followups = [s for s in tracing.in_trace(run.trace_id) if s.name in names]
    assert len(followups) == 3
    for span in followups:
        assert span.parent_span_id == run.span_id and span.kind == KIND_CONSUMER
        assert span.attributes["agentapp.run_id"] == output.run_id
        assert span.attributes["agentapp.session_id"] == "jazz"
        assert span.start_ns >= run.end_ns and span.service == "agentapp"  # after the reply, elsewhere
    assert AgentSession.objects.get(session_id="jazz").title == "Sarah likes jazz"
    # Inside each task's span, its own steps: the model requests, the memory manager's tool call and
    # the memory it wrote.
    task = {span.name.split(".")[-1]: span for span in followups}
    inside = {s.parent_span_id: [] for s in followups}
    for span in tracing.in_trace(run.trace_id):
        inside.setdefault(span.parent_span_id, []).append(span.name)
    assert sorted(inside[task["update_for_run"].span_id]) == [
        "chat gpt-test",
        "chat gpt-test",
        "execute_tool add_memory",
        "followup memory.embed",  # the new memory's embedding, a task sent from inside this one
    ]
    (tool,) = tracing.named("execute_tool add_memory", run.trace_id)
    assert [s.name for s in tracing.in_trace(run.trace_id) if s.parent_span_id == tool.span_id] == [
        "memory create"
    ]
    assert inside[task["summary_update"].span_id] == ["chat gpt-test"]
    assert inside[task["title_for_session"].span_id] == ["chat gpt-test"]

    # The worker's log lines about this run's follow-ups carry its ids and trace id (LOG_FORMAT=json).
    lines = [
        json.loads(line)
        for line in (tmp_path / "followups.log").read_text().splitlines()
        if line.startswith("{")
    ]
    about_the_run = [line for line in lines if line.get("run_id") == output.run_id]
    assert len(about_the_run) >= 3, lines  # at least each task's "succeeded"
    assert all(line["trace_id"] == run.trace_id and line["session_id"] == "jazz" for line in about_the_run)
    assert {line["logger"] for line in about_the_run} >= {"celery.app.trace"}

    settings.PROMETHEUS_MULTIPROC_DIR = str(metrics_dir)
    settings.METRICS_TOKEN = "scrape-secret"
    body = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).content.decode()
    for job in ("memory", "summary", "title"):
        assert f'agentapp_followup_lag_seconds_count{{job="{job}"}} 1.0' in body
