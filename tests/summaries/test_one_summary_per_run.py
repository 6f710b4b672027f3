"""Every run is folded into its session summary once: one summary request, one summary event,
whether the run came as JSON or as a stream, inline or through a real worker."""

from __future__ import annotations

import time

import httpx
import pytest

from apikeys.services import apikey_create
from sessions_app.models import RunEvent, SessionSummary
from tests.fake_openai import Reply
from tests.redis_support import redis_worker

from .conftest import is_summary_request


def _run_over_http(asgi_server: str, token: str, stream: bool) -> None:
    with httpx.Client(base_url=asgi_server, timeout=20) as client:
        response = client.post(
            "/api/runs",
            json={"message": "I like jazz", "session_id": "s-jazz", "stream": stream},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text


def _summary_model(app_model) -> None:
    app_model.reply(text="Noted: you like jazz.")
    app_model.responder = lambda request: (
        Reply(text="Alice likes jazz.\nTopics: music") if is_summary_request(request) else Reply(text="Jazz")
    )


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_an_api_run_records_one_summary_inline(asgi_server, app_model, alice, settings, stream):
    settings.AGENT_SESSION_SUMMARIES = True
    _summary_model(app_model)

    _run_over_http(asgi_server, apikey_create(user=alice, name="k")[1], stream)

    assert RunEvent.objects.filter(kind="summary").count() == 1
    assert sum(map(is_summary_request, app_model.requests)) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_an_api_run_records_one_summary_through_a_worker(asgi_server, app_model, alice, settings, stream):
    """Was: runs streamed through the API recorded two summary events (two model calls)."""
    settings.AGENT_SESSION_SUMMARIES = True
    settings.AGENT_BACKGROUND_TASKS = "celery"
    _summary_model(app_model)
    token = apikey_create(user=alice, name="k")[1]

    with redis_worker("agentapp-summary-test", "redis://127.0.0.1:6379/12"):
        _run_over_http(asgi_server, token, stream)
        deadline = time.monotonic() + 20
        while not SessionSummary.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # a second fold, if one were coming, has had time to land

    assert SessionSummary.objects.get().text == "Alice likes jazz."
    assert RunEvent.objects.filter(kind="summary").count() == 1
    assert sum(map(is_summary_request, app_model.requests)) == 1
