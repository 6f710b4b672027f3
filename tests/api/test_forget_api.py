""" "Don't remember this" on the API (`remember: false` on POST /api/runs) and "forget what was learned
from this" (POST /api/runs/{run_id}/forget, and its undo …/unforget)."""

from __future__ import annotations

import httpx
import pytest

from apikeys.services import apikey_create
from memory_app import services as memory_services
from memory_app.models import Memory, MemoryChange
from sessions_app.models import Run
from sessions_app.services import run_create, session_create

from .conftest import assert_error

pytestmark = pytest.mark.django_db

WRITES = {"add_memory", "update_memory", "delete_memory"}


def offered(request) -> set[str]:
    return {t["function"]["name"] for t in request.body.get("tools") or []}


def test_a_run_sent_with_remember_false_is_offered_no_memory_write(alice_api, replying_model):
    response = alice_api.post("/api/runs", {"message": "I live in Porto", "remember": False})

    assert response.status_code == 200, response.content
    assert response.json()["remember"] is False and response.json()["content"] == "Noted."
    run = Run.objects.get()
    assert run.remember is False and run.status == "completed" and run.user.username == "alice"
    assert not WRITES & offered(replying_model.requests[0])


def test_a_streamed_run_sent_with_remember_false_is_offered_no_memory_write(
    asgi_server, replying_model, alice
):
    token = apikey_create(user=alice, name="stream")[1]
    with httpx.Client(base_url=asgi_server, timeout=20) as client:
        response = client.post(
            "/api/runs",
            json={"message": "I live in Porto", "remember": False, "stream": True},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert response.status_code == 200 and "RunCompleted" in response.text
    assert Run.objects.get().remember is False
    assert not WRITES & offered(replying_model.requests[0])


def test_remember_is_true_unless_asked_otherwise(alice_api, replying_model):
    body = alice_api.post("/api/runs", {"message": "I live in Porto"}).json()

    assert body["remember"] is True and Run.objects.get().remember is True
    assert WRITES & offered(replying_model.requests[0])  # the control: a run remembered is offered them


def test_remember_false_continues_a_named_session_and_a_service_key_may_ask_it_for_a_new_person(
    alice_api, service_api, replying_model
):
    first = alice_api.post("/api/runs", {"message": "One", "session_id": "thread-1"}).json()
    second = alice_api.post("/api/runs", {"message": "Two", "session_id": "thread-1", "remember": False})
    assert (
        second.json()["session_id"] == first["session_id"]
        and second.json()["parent_run_id"] == first["run_id"]
    )

    newcomer = service_api.post("/api/runs", {"message": "Hi", "user_id": "carol", "remember": False})
    assert newcomer.status_code == 200, newcomer.content
    assert newcomer.json()["user_id"] == "carol" and newcomer.json()["remember"] is False


def test_remember_must_be_true_or_false(alice_api, replying_model):
    body = assert_error(alice_api.post("/api/runs", {"message": "hi", "remember": "maybe"}), 422)
    assert body["detail"][0]["loc"][-1] == "remember"
    assert_error(alice_api.post("/api/runs", {"message": "hi", "remember": None}), 422)
    assert not Run.objects.exists()


def test_a_new_version_of_a_turn_not_remembered_is_not_remembered_either(alice_api, replying_model):
    first = alice_api.post("/api/runs", {"message": "I live in Porto", "remember": False}).json()

    again = alice_api.post("/api/runs", {"regenerate_run_id": first["run_id"]}).json()

    assert again["remember"] is False
    assert not WRITES & offered(replying_model.requests[-1])


# --- POST /api/runs/{run_id}/forget ----------------------------------------------------------
@pytest.fixture
def learned(alice):
    """A run of alice's that learned one memory (and one she told herself, which stays)."""
    run = run_create(session=session_create(user=alice), input="I live in Porto")
    memory_services.memory_create(user_pk=alice.pk, text="Lives in Porto", actor="model", run_pk=run.pk)
    memory_services.memory_create(user_pk=alice.pk, text="Likes tea", actor="person")
    return run


def _current(user) -> list[str]:
    return sorted(Memory.objects.current().filter(user=user).values_list("text", flat=True))


def test_forgetting_a_run_answers_what_was_forgotten(alice, alice_api, learned):
    response = alice_api.post(f"/api/runs/{learned.run_id}/forget")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "run_id": learned.run_id,
        "remember": False,
        "memories": 1,
        "proposals_discarded": 0,
    }
    assert _current(alice) == ["Likes tea"]
    undo = MemoryChange.objects.get(action="delete")
    assert (undo.actor, undo.actor_user) == ("api", alice)
    assert alice_api.get(f"/api/runs/{learned.run_id}").json()["remember"] is False


def test_unforget_brings_it_back(alice, alice_api, learned):
    alice_api.post(f"/api/runs/{learned.run_id}/forget")

    response = alice_api.post(f"/api/runs/{learned.run_id}/unforget")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "run_id": learned.run_id,
        "remember": True,
        "memories": 1,
        "proposals_discarded": 0,
    }
    assert _current(alice) == ["Likes tea", "Lives in Porto"]


def test_another_persons_run_is_not_found(alice, bob_api, learned):
    for action in ("forget", "unforget"):
        assert_error(bob_api.post(f"/api/runs/{learned.run_id}/{action}"), 404)
    assert _current(alice) == ["Likes tea", "Lives in Porto"]
    assert Run.objects.get(pk=learned.pk).remember is True


def test_a_service_key_forgets_for_the_person_recorded_as_itself(alice, staff, service_api, learned):
    assert service_api.post(f"/api/runs/{learned.run_id}/forget").status_code == 200

    undo = MemoryChange.objects.get(action="delete")
    assert (undo.actor, undo.actor_user) == ("api", staff)
    assert _current(alice) == ["Likes tea"]
