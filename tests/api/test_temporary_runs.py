"""`temporary: true` on POST /api/runs: the session is made a temporary chat when it begins, and never
changes its kind; the session list leaves it out unless asked (`?temporary=true`); the schemas say
`temporary`; the run neither reads nor writes memories."""

from __future__ import annotations

import json

import httpx
import pytest

from apikeys.services import apikey_create
from memory_app import services as memory_services
from memory_app.models import Memory, MemoryExtraction
from sessions_app.models import AgentSession, Run, SessionSummary
from tests.fake_openai import Reply

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_a_temporary_run_makes_its_new_session_a_temporary_chat(alice_api, replying_model):
    response = alice_api.post("/api/runs", {"message": "Just between us", "temporary": True})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed" and body["content"] == "Noted." and body["temporary"] is True
    assert body["user_id"] == "alice" and body["session_id"].startswith("ses_")
    session = AgentSession.objects.get(session_id=body["session_id"])
    assert session.temporary and session.user.username == "alice"
    assert session.title == ""  # no title: the only model request was the reply
    assert len(replying_model.requests) == 1
    run = Run.objects.get(run_id=body["run_id"])
    assert run.model_id == "gpt-test" and run.acting_user is None


def test_a_temporary_run_names_its_new_session(alice_api, replying_model):
    body = alice_api.post("/api/runs", {"message": "Hi", "session_id": "t-1", "temporary": True}).json()
    assert body["session_id"] == "t-1" and AgentSession.objects.get(session_id="t-1").temporary


def test_a_temporary_chat_goes_on_as_one_with_or_without_the_flag(alice_api, replying_model):
    alice_api.post("/api/runs", {"message": "One", "session_id": "t-1", "temporary": True})
    second = alice_api.post("/api/runs", {"message": "Two", "session_id": "t-1"})
    third = alice_api.post("/api/runs", {"message": "Three", "session_id": "t-1", "temporary": True})

    assert second.status_code == third.status_code == 200
    assert second.json()["temporary"] is third.json()["temporary"] is True
    assert Run.objects.filter(session__session_id="t-1").count() == 3


def test_temporary_false_is_an_ordinary_chat(alice_api, replying_model):
    body = alice_api.post("/api/runs", {"message": "Hi", "session_id": "o-1", "temporary": False}).json()
    assert body["temporary"] is False and not AgentSession.objects.get(session_id="o-1").temporary
    again = alice_api.post("/api/runs", {"message": "Hi", "session_id": "o-1", "temporary": False})
    assert again.status_code == 200


def test_a_chat_cannot_change_its_kind(alice_api, replying_model):
    alice_api.post("/api/runs", {"message": "Ordinary", "session_id": "o-1"})
    alice_api.post("/api/runs", {"message": "Secret", "session_id": "t-1", "temporary": True})

    body = assert_error(
        alice_api.post("/api/runs", {"message": "Now forget", "session_id": "o-1", "temporary": True}), 422
    )
    assert "is not a temporary chat" in body["message"] and "new session" in body["message"]
    body = assert_error(
        alice_api.post("/api/runs", {"message": "Remember", "session_id": "t-1", "temporary": False}), 422
    )
    assert "is a temporary chat: it stays one" in body["message"]
    assert Run.objects.count() == 2  # the refused messages were not stored
    assert not AgentSession.objects.get(session_id="o-1").temporary
    assert AgentSession.objects.get(session_id="t-1").temporary


def test_another_persons_session_is_not_found_whatever_kind_is_asked(alice_api, bob_api, replying_model):
    alice_api.post("/api/runs", {"message": "Mine", "session_id": "alice-t", "temporary": True})
    for temporary in (True, False):
        payload = {"message": "Let me in", "session_id": "alice-t", "temporary": temporary}
        assert_error(bob_api.post("/api/runs", payload), 404)
    assert Run.objects.filter(user__username="bob").count() == 0


def test_a_service_key_makes_a_temporary_chat_for_a_new_person(service_api, replying_model):
    response = service_api.post(
        "/api/runs", {"message": "Hello", "user_id": "sarah@acme.com", "temporary": True}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user_id"] == "sarah@acme.com" and body["temporary"] is True
    run = Run.objects.select_related("session", "acting_user").get(run_id=body["run_id"])
    assert run.session.temporary and run.acting_user.username == "ops"


def test_a_refused_temporary_run_leaves_no_person_or_session_behind(service_api, replying_model):
    payload = {"message": "bad\x00text", "user_id": "nobody-yet", "temporary": True}
    response = service_api.post("/api/runs", payload)
    assert response.status_code in (400, 422), response.content
    assert not AgentSession.objects.exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="nobody-yet").exists()


def test_temporary_is_refused_with_a_new_version(alice_api, replying_model):
    run_id = alice_api.post("/api/runs", {"message": "Hi"}).json()["run_id"]
    for payload in (
        {"regenerate_run_id": run_id, "temporary": True},
        {"edit_run_id": run_id, "message": "Hey", "temporary": False},
    ):
        body = assert_error(alice_api.post("/api/runs", payload), 422)
        assert "leave temporary out" in json.dumps(body)
    assert alice_api.post("/api/runs", {"message": "x", "temporary": None}).status_code == 422  # never null


def test_the_session_list_leaves_temporary_chats_out_unless_asked(alice_api, service_api, replying_model):
    alice_api.post("/api/runs", {"message": "Ordinary", "session_id": "o-1"})
    alice_api.post("/api/runs", {"message": "Secret", "session_id": "t-1", "temporary": True})

    listed = alice_api.get("/api/sessions").json()
    assert [s["session_id"] for s in listed["items"]] == ["o-1"] and listed["count"] == 1
    assert listed["items"][0]["temporary"] is False
    assert alice_api.get("/api/sessions", search="Secret").json()["count"] == 0
    asked = alice_api.get("/api/sessions", temporary="true").json()
    assert [s["session_id"] for s in asked["items"]] == ["t-1"] and asked["items"][0]["temporary"] is True
    assert alice_api.get("/api/sessions", temporary="true", search="Secret").json()["count"] == 1
    assert service_api.get("/api/sessions", user_id="alice", temporary="true").json()["count"] == 1
    assert_error(alice_api.get("/api/sessions", temporary="maybe"), 422)


def test_a_temporary_chat_is_read_by_its_id_for_its_owner_only(alice_api, bob_api, replying_model):
    run_id = alice_api.post(
        "/api/runs", {"message": "Secret", "session_id": "t-1", "temporary": True}
    ).json()["run_id"]

    session = alice_api.get("/api/sessions/t-1").json()
    assert session["temporary"] is True and session["session_id"] == "t-1"
    assert alice_api.get(f"/api/runs/{run_id}").json()["temporary"] is True
    runs = alice_api.get("/api/sessions/t-1/runs").json()
    assert [r["run_id"] for r in runs["items"]] == [run_id] and runs["items"][0]["temporary"] is True
    assert_error(bob_api.get("/api/sessions/t-1"), 404)
    assert_error(bob_api.get(f"/api/runs/{run_id}"), 404)


def test_a_summary_refresh_of_a_temporary_chat_makes_no_summary(alice_api, replying_model):
    alice_api.post("/api/runs", {"message": "Secret", "session_id": "t-1", "temporary": True})
    requests = len(replying_model.requests)

    response = alice_api.post("/api/sessions/t-1/summary/refresh")

    assert response.status_code == 202
    assert len(replying_model.requests) == requests  # nothing to fold: no model request
    assert not SessionSummary.objects.exists()
    assert alice_api.get("/api/sessions/t-1/summary").json()["text"] == ""


def test_the_schema_documents_temporary(anon_api):
    schemas = anon_api.get("/api/openapi.json").json()["components"]["schemas"]
    assert schemas["RunIn"]["properties"]["temporary"]["type"] == "boolean"
    assert "temporary" in schemas["RunOut"]["properties"]
    assert "temporary" in schemas["SessionOut"]["properties"]
    assert "temporary" in schemas["SessionOut"]["required"]


def test_a_temporary_api_run_neither_reads_nor_writes_memories(alice, alice_api, app_model, settings):
    """Through the app's agent and the real model loop: agentic memory and the automatic update on,
    memories stored for the person; the temporary run's one request holds none and offers no memory
    tool, and nothing is learned."""
    settings.AGENT_AGENTIC_MEMORY = True
    settings.AGENT_UPDATE_MEMORY_ON_RUN = True
    settings.AGENT_SESSION_SUMMARIES = True
    memory_services.memory_create(user_pk=alice.pk, text="Alice is allergic to peanuts", actor="person")
    app_model.reply(text="Enjoy the party.")
    app_model.responder = lambda request: Reply(
        tool_calls=[("add_memory", {"memory": "Alice is planning a party"})]
    )

    body = alice_api.post("/api/runs", {"message": "I am planning a party", "temporary": True}).json()

    assert body["content"] == "Enjoy the party." and body["memories_used"] == []
    assert len(app_model.requests) == 1
    request = app_model.requests[0].body
    assert "peanuts" not in json.dumps(request)
    assert not {t["function"]["name"] for t in request.get("tools") or []} & {
        "add_memory",
        "update_memory",
        "delete_memory",
        "search_memories",
    }
    assert list(Memory.objects.values_list("text", flat=True)) == ["Alice is allergic to peanuts"]
    assert not MemoryExtraction.objects.exists() and not SessionSummary.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_streamed_temporary_run_streams_its_events_then_done(asgi_server, app_model, alice):
    token = apikey_create(user=alice, name="stream")[1]
    app_model.reply(text="Streamed, and soon forgotten.")
    with httpx.Client(base_url=asgi_server, timeout=20) as client:
        response = client.post(
            "/api/runs",
            json={"message": "Hi", "session_id": "t-stream", "temporary": True, "stream": True},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [line.split(": ", 1)[1] for line in response.text.splitlines() if line.startswith("event: ")]
    assert events[0] == "RunStarted" and events[-2:] == ["RunCompleted", "done"]
    run = Run.objects.select_related("session").get(session__session_id="t-stream")
    assert run.status == Run.Status.COMPLETED and run.content == "Streamed, and soon forgotten."
    assert run.session.temporary
