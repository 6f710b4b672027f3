from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app.models import AgentSession, Run
from sessions_app.services import run_create, session_create

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_a_run_answers_json_and_creates_a_session_when_none_is_given(alice_api, replying_model):
    response = alice_api.post("/api/runs", {"message": "Hello there"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed"
    assert body["content"] == "Noted."
    assert body["user_id"] == "alice"
    assert body["input"] == "Hello there"
    session = AgentSession.objects.get(session_id=body["session_id"])
    assert session.user.username == "alice"


def test_an_api_run_titles_its_new_session(alice_api, replying_model):
    """Was: only chat runs got a title; the API's sessions stayed "New chat" for good."""
    body = alice_api.post("/api/runs", {"message": "Plan a trip to Lisbon in May please"}).json()

    assert AgentSession.objects.get(session_id=body["session_id"]).title == "Plan a trip to Lisbon in…"


def test_with_workers_an_api_run_sends_its_title_task(
    alice_api, replying_model, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert alice_api.post("/api/runs", {"message": "Plan a trip"}).status_code == 200

    sent = [cb.func.__self__.name for cb in callbacks]
    assert sent == ["sessions.title_for_session"]


def test_a_run_continues_the_named_session(alice_api, replying_model):
    first = alice_api.post("/api/runs", {"message": "One", "session_id": "thread-1"}).json()
    second = alice_api.post("/api/runs", {"message": "Two", "session_id": "thread-1"}).json()
    assert first["session_id"] == second["session_id"] == "thread-1"
    assert Run.objects.filter(session__session_id="thread-1").count() == 2


def test_a_run_validates_its_input(alice_api, replying_model):
    assert_error(alice_api.post("/api/runs", {}), 422)
    assert_error(alice_api.post("/api/runs", {"message": "   "}), 422)
    assert_error(alice_api.post("/api/runs", {"message": "x" * 32_001}), 422)
    body = assert_error(alice_api.post("/api/runs", {"message": "hi", "stream": "maybe"}), 422)
    assert body["detail"][0]["loc"][-1] == "stream"
    assert not Run.objects.exists()


def test_a_run_in_another_persons_session_is_not_found(alice, alice_api, bob_api, replying_model):
    alice_api.post("/api/runs", {"message": "mine", "session_id": "alice-thread"})
    assert_error(bob_api.post("/api/runs", {"message": "let me in", "session_id": "alice-thread"}), 404)
    assert Run.objects.filter(user__username="bob").count() == 0


def test_a_persons_key_cannot_speak_for_another_user(alice_api, bob, replying_model):
    body = assert_error(alice_api.post("/api/runs", {"message": "hi", "user_id": "bob"}), 404)
    assert "bob" not in str(body)
    ok = alice_api.post("/api/runs", {"message": "hi", "user_id": "alice"})
    assert ok.status_code == 200


def test_a_service_key_speaks_for_any_user_and_creates_them(service_api, replying_model):
    response = service_api.post("/api/runs", {"message": "I prefer email", "user_id": "sarah@acme.com"})
    assert response.status_code == 200, response.content
    assert response.json()["user_id"] == "sarah@acme.com"
    assert (
        AgentSession.objects.get(session_id=response.json()["session_id"]).user.username == "sarah@acme.com"
    )


def test_anonymous_callers_get_401(anon_api, replying_model):
    response = anon_api.post("/api/runs", {"message": "hi"})
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_run_can_be_read_with_its_events(alice_api, bob_api, service_api, anon_api, replying_model):
    run_id = alice_api.post("/api/runs", {"message": "Hello"}).json()["run_id"]
    body = alice_api.get(f"/api/runs/{run_id}").json()
    assert body["run_id"] == run_id
    assert [e["kind"] for e in body["events"]][:2] == ["context", "model_request"]
    assert_error(bob_api.get(f"/api/runs/{run_id}"), 404)
    assert_error(anon_api.get(f"/api/runs/{run_id}"), 401)
    assert service_api.get(f"/api/runs/{run_id}").status_code == 200
    assert_error(alice_api.get("/api/runs/run_missing"), 404)


def test_a_pending_run_can_be_cancelled_once(alice, alice_api, bob_api, anon_api):
    session = session_create(user=alice)
    run = run_create(session=session, input="long job", status=Run.Status.PENDING)
    assert_error(bob_api.post(f"/api/runs/{run.run_id}/cancel"), 404)
    assert_error(anon_api.post(f"/api/runs/{run.run_id}/cancel"), 401)
    response = alice_api.post(f"/api/runs/{run.run_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    body = assert_error(alice_api.post(f"/api/runs/{run.run_id}/cancel"), 409)
    assert body["detail"] == {"status": "cancelled"}


@pytest.mark.parametrize("session_id", [None, "ses-ongoing"], ids=["new session", "ongoing session"])
def test_a_service_keys_run_for_a_known_person_looks_them_up_once(
    service_api, alice, replying_model, session_id
):
    warm_up = {"message": "warm up", "user_id": "alice", "session_id": "ses-ongoing"}
    service_api.post("/api/runs", warm_up)  # the agent built once; the ongoing session made

    with CaptureQueriesContext(connection) as queries:
        response = service_api.post(
            "/api/runs", {"message": "I prefer email", "user_id": "alice", "session_id": session_id}
        )

    assert response.status_code == 200, response.content
    lookups = [q["sql"] for q in queries.captured_queries if re.search(r'FROM "auth_user"\s+WHERE', q["sql"])]
    assert len(lookups) == 1, lookups
