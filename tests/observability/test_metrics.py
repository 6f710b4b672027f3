"""Prometheus metrics at /metrics: who may read them, what a run counts, and several processes summed."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from memory_app.services import memory_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "scrape-secret-123"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def _samples(body: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def scrapable(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    settings.PROMETHEUS_MULTIPROC_DIR = ""
    return settings


def test_metrics_are_not_public_without_the_token_or_an_allowed_address(scrapable, client, alice, bob, staff):
    refused = client.get("/metrics")
    assert refused.status_code == 403 and b"METRICS_TOKEN" in refused.content
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    for person in ("alice", "bob"):
        client.login(username=person, password=PASSWORD)
        assert client.get("/metrics").status_code == 403
    client.login(username="ops", password=PASSWORD)  # staff: still a scrape, not a page
    assert client.get("/metrics").status_code == 403
    client.logout()
    assert client.get("/metrics", headers=BEARER).status_code == 200
    scrapable.METRICS_TOKEN = ""
    scrapable.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.0/8"]  # the test client is 127.0.0.1
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403


def test_an_address_a_proxy_forwarded_lets_no_one_in_unless_the_operator_trusts_the_proxies(
    scrapable, asgi_server
):
    # uvicorn (as deployed) takes X-Forwarded-For from a loopback peer as the client's address: a
    # local proxy passing the header through would let anyone name an allowed address.
    scrapable.METRICS_TOKEN = ""
    scrapable.METRICS_ALLOWED_IPS = ["10.9.8.7"]
    claimed = {"X-Forwarded-For": "10.9.8.7"}
    assert httpx.get(f"{asgi_server}/metrics", headers=claimed).status_code == 403
    scrapable.METRICS_TRUST_FORWARDED = True  # the operator's proxies set the header themselves
    assert httpx.get(f"{asgi_server}/metrics", headers=claimed).status_code == 200


def test_a_run_counts_its_status_model_tokens_and_timings(scrapable, client, make_agent, fake_openai):
    before = {
        "runs": _value("agentapp_runs_total", status="completed", model="gpt-test"),
        "in": _value("agentapp_tokens_total", direction="input", model="gpt-test"),
        "out": _value("agentapp_tokens_total", direction="output", model="gpt-test"),
        "ttft": _value("agentapp_run_time_to_first_token_seconds_count", model="gpt-test"),
        "duration": _value("agentapp_run_duration_seconds_count", model="gpt-test"),
    }
    fake_openai.reply(text="Hello there, Sarah.")
    make_agent("chat").run("hello", user_id="sarah", session_id="counted")
    assert _value("agentapp_runs_total", status="completed", model="gpt-test") == before["runs"] + 1
    assert _value("agentapp_tokens_total", direction="input", model="gpt-test") > before["in"]
    assert _value("agentapp_tokens_total", direction="output", model="gpt-test") > before["out"]
    assert _value("agentapp_run_time_to_first_token_seconds_count", model="gpt-test") == before["ttft"] + 1
    assert _value("agentapp_run_duration_seconds_count", model="gpt-test") == before["duration"] + 1

    samples = _samples(client.get("/metrics", headers=BEARER).content.decode())
    key = ("agentapp_runs_total", frozenset({"status": "completed", "model": "gpt-test"}.items()))
    assert samples[key] == before["runs"] + 1


def test_model_errors_are_counted_by_kind(scrapable, make_agent, fake_openai):
    before = _value("agentapp_model_errors_total", model="gpt-test", kind="rate_limit")
    errors_before = _value("agentapp_runs_total", status="error", model="gpt-test")
    fake_openai.reply(status=429, error="slow down")
    assert make_agent("chat").run("hello", user_id="sarah", session_id="limited").status == "error"
    assert _value("agentapp_model_errors_total", model="gpt-test", kind="rate_limit") == before + 1
    assert _value("agentapp_runs_total", status="error", model="gpt-test") == errors_before + 1


def test_memories_per_person_and_the_queue_depth_are_read_at_scrape_time(scrapable, client, alice, bob):
    for user, text in ((alice, "Alice likes tea"), (alice, "Alice has a cat"), (bob, "Bob cycles")):
        memory_create(user_pk=user.pk, text=text, actor="person")
    samples = _samples(client.get("/metrics", headers=BEARER).content.decode())
    assert samples[("agentapp_memories_per_person_count", frozenset())] == 2
    assert samples[("agentapp_memories_per_person_sum", frozenset())] == 3
    assert samples[("agentapp_memories_per_person_max", frozenset())] == 2
    assert ("agentapp_queue_depth", frozenset({"queue": "celery"}.items())) in samples


COUNTING_PROCESS = """
import sys
from agentapp.agent import Agent, telemetry
from agentapp.llm import OpenAIChat
from agentapp.observability import metrics

telemetry.add_observer(metrics.OBSERVER)  # what the app does at startup (ObservabilityConfig.ready)
model = OpenAIChat(id="gpt-test", base_url=sys.argv[1], api_key="sk-test", max_retries=0)
agent = Agent(model=model)
for _ in range(int(sys.argv[2])):
    assert agent.run("hello", user_id="sarah").status == "completed"
"""


def test_counts_from_several_processes_are_summed(scrapable, client, fake_openai, tmp_path):
    for _ in range(5):
        fake_openai.reply(text="Hello.")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    workers = [
        subprocess.Popen([sys.executable, "-c", COUNTING_PROCESS, fake_openai.base_url, str(runs)], env=env)
        for runs in (2, 3)
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per process

    scrapable.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    samples = _samples(client.get("/metrics", headers=BEARER).content.decode())
    key = ("agentapp_runs_total", frozenset({"status": "completed", "model": "gpt-test"}.items()))
    assert samples[key] == 5
    assert samples[("agentapp_run_duration_seconds_count", frozenset({"model": "gpt-test"}.items()))] == 5


@pytest.mark.django_db(transaction=True)
def test_a_streaming_reply_is_an_active_stream_until_it_ends(asgi_server, app_model, alice):
    from apikeys.services import apikey_create
    from tests.fake_openai import Reply

    token = apikey_create(user=alice, name="stream")[1]
    before = _value("agentapp_active_streams")
    seen_by_the_model: list[float] = []

    def reply(request):
        seen_by_the_model.append(_value("agentapp_active_streams"))
        return Reply(text="Streaming now.")

    app_model.responder = reply
    with httpx.Client(base_url=asgi_server, timeout=20) as http:
        response = http.post(
            "/api/runs",
            json={"message": "hi", "session_id": "streamed", "stream": True},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200 and "event: done" in response.text
    assert seen_by_the_model[0] == before + 1  # while the model answered, the stream was counted
    assert _value("agentapp_active_streams") == before


def test_metrics_still_answer_while_the_database_is_away(scrapable, outage, client):
    outage.stop()
    try:
        response = client.get("/metrics", headers=BEARER)
    finally:
        outage.start()
    assert response.status_code == 200
    samples = _samples(response.content.decode())
    assert ("agentapp_memories_per_person_count", frozenset()) not in samples
    assert any(name == "agentapp_active_streams" for name, _ in samples)
