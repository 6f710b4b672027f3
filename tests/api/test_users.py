from __future__ import annotations

import pytest

from memory_app.models import Memory, MemoryChange
from memory_app.services import memory_create, memory_delete
from sessions_app.models import AgentSession, Message, Run, RunEvent, SessionSummary

from .conftest import assert_error

pytestmark = pytest.mark.django_db

PERSON = MemoryChange.Actor.PERSON


@pytest.fixture
def alice_data(alice, alice_api, replying_model):
    """Two runs in one session, a summary, a live memory and a deleted one with history."""
    alice_api.post("/api/runs", {"message": "Hi", "session_id": "alice-1"})
    alice_api.post("/api/runs", {"message": "Again", "session_id": "alice-1"})
    session = AgentSession.objects.get(session_id="alice-1")
    SessionSummary.objects.update_or_create(session=session, defaults={"text": "Greetings."})
    memory_create(user_pk=alice.pk, text="Likes jazz", actor=PERSON)
    old = memory_create(user_pk=alice.pk, text="Lived in Paris", actor=PERSON)[0]
    memory_delete(memory=old, actor=PERSON)
    return session


@pytest.fixture
def bob_data(bob, bob_api, replying_model):
    bob_api.post("/api/runs", {"message": "Hello from Bob", "session_id": "bob-1"})
    memory_create(user_pk=bob.pk, text="Bob likes tea", actor=PERSON)


def test_an_export_holds_everything_stored_about_the_person(alice_api, alice_data, bob_data):
    body = alice_api.get("/api/users/alice/export").json()
    assert body["user_id"] == "alice"
    [session] = body["sessions"]
    assert session["session_id"] == "alice-1"
    assert session["summary"]["text"] == "Greetings."
    assert [r["input"] for r in session["runs"]] == ["Hi", "Again"]
    assert [m["role"] for m in session["runs"][0]["messages"]] == ["user", "assistant"]
    assert session["runs"][0]["events"]
    memories = {m["text"]: m for m in body["memories"]}
    assert set(memories) == {"Likes jazz", "Lived in Paris"}
    assert memories["Lived in Paris"]["deleted_at"] is not None
    assert [c["action"] for c in memories["Lived in Paris"]["history"]] == ["create", "delete"]
    assert "Bob" not in str(body)


def test_an_export_is_for_the_person_or_a_service_key_only(alice_api, bob_api, service_api, anon_api, alice):
    assert_error(bob_api.get("/api/users/alice/export"), 404)
    assert_error(anon_api.get("/api/users/alice/export"), 401)
    assert service_api.get("/api/users/alice/export").json()["user_id"] == "alice"
    assert_error(service_api.get("/api/users/nobody/export"), 404)
    assert_error(alice_api.get(f"/api/users/{'x' * 151}/export"), 422)


def test_erasing_a_persons_data_deletes_it_all_and_answers_counts(alice, alice_api, alice_data, bob_data):
    events = RunEvent.objects.filter(run__user=alice).count()
    response = alice_api.delete("/api/users/alice/data")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "user_id": "alice",
        "sessions": 1,
        "runs": 2,
        "messages": 4,
        "events": events,
        "summaries": 1,
        "memories": 1,  # as the data page counts them; the one deleted before is named apart
        "deleted_memories": 1,
        "memory_changes": 3,
        "memory_proposals": 0,
        "feedback": 0,
        "settings": 0,
    }
    for model in (AgentSession, Run, Message, SessionSummary, Memory, MemoryChange):
        assert not model.objects.filter(**_owner(model, alice)).exists(), model
    assert not RunEvent.objects.filter(run__user=alice).exists()
    assert Run.objects.filter(user__username="bob").count() == 1
    assert Memory.objects.filter(user__username="bob").count() == 1
    alice.refresh_from_db()  # the account itself stays


def _owner(model, user) -> dict:
    if model is Message:
        return {"run__user": user}
    if model is SessionSummary:
        return {"session__user": user}
    return {"user": user}


def test_erasing_is_for_the_person_or_a_service_key_only(alice, bob_api, service_api, anon_api, alice_data):
    assert_error(bob_api.delete("/api/users/alice/data"), 404)
    assert_error(anon_api.delete("/api/users/alice/data"), 401)
    assert Run.objects.filter(user=alice).count() == 2
    assert service_api.delete("/api/users/alice/data").json()["runs"] == 2
    assert_error(service_api.delete("/api/users/nobody/data"), 404)
