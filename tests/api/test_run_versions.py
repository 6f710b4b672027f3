"""`POST /api/runs` with `regenerate_run_id` or `edit_run_id`: a new version of an earlier turn.
Each run names its parent; the run's detail says which version it is."""

from __future__ import annotations

import json

import httpx
import pytest

from apikeys.services import apikey_create
from sessions_app.models import Run
from sessions_app.services import run_create, session_create
from tests.fake_openai import Reply

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(alice_api, replying_model):
    first = alice_api.post("/api/runs", {"message": "My name is Ann", "session_id": "t"}).json()
    second = alice_api.post("/api/runs", {"message": "I like tea", "session_id": "t"}).json()
    third = alice_api.post("/api/runs", {"message": "What do I like?", "session_id": "t"}).json()
    return first, second, third


def _heard(model) -> list[str]:
    messages = model.requests[-1].body["messages"]
    return [m["content"] for m in messages if m["role"] in ("user", "assistant") and m.get("content")]


def test_each_run_names_the_run_it_follows(thread):
    first, second, third = thread
    assert first["parent_run_id"] is None
    assert second["parent_run_id"] == first["run_id"] and third["parent_run_id"] == second["run_id"]


def test_regenerating_makes_a_new_version_of_the_turn_with_the_same_message(
    alice_api, thread, replying_model
):
    first, second, _ = thread
    response = alice_api.post("/api/runs", {"regenerate_run_id": second["run_id"]})
    assert response.status_code == 200, response.content
    new = response.json()
    assert new["input"] == "I like tea" and new["status"] == "completed"
    assert new["parent_run_id"] == first["run_id"] and new["session_id"] == "t"
    assert _heard(replying_model) == ["My name is Ann", "Noted.", "I like tea"]  # not the later turn

    detail = alice_api.get(f"/api/runs/{new['run_id']}").json()
    assert detail["version"] == 2 and detail["versions"] == [second["run_id"], new["run_id"]]
    assert alice_api.get(f"/api/runs/{second['run_id']}").json()["version"] == 1

    # The thread goes on from the new version.
    after = alice_api.post("/api/runs", {"message": "And?", "session_id": "t"}).json()
    assert after["parent_run_id"] == new["run_id"]


def test_editing_sends_the_new_message_as_a_new_version(alice_api, thread, replying_model):
    first, second, _ = thread
    body = alice_api.post("/api/runs", {"edit_run_id": second["run_id"], "message": "I like coffee"}).json()
    assert body["input"] == "I like coffee" and body["parent_run_id"] == first["run_id"]
    assert _heard(replying_model)[-1] == "I like coffee" and "I like tea" not in _heard(replying_model)
    assert Run.objects.filter(session__session_id="t").count() == 4  # the old version stays


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"regenerate_run_id": "R", "edit_run_id": "R", "message": "x"}, "not both"),
        ({"regenerate_run_id": "R", "message": "x"}, "leave message out"),
        ({"edit_run_id": "R"}, "message is required"),
        ({"edit_run_id": "R", "message": "  "}, "message"),
    ],
)
def test_a_version_asked_for_wrongly_is_refused_with_the_reason(alice_api, thread, payload, reason):
    payload = {k: thread[1]["run_id"] if v == "R" else v for k, v in payload.items()}
    body = assert_error(alice_api.post("/api/runs", payload), 422)
    assert reason in json.dumps(body)
    assert Run.objects.count() == 3


def test_the_named_session_and_person_must_be_the_runs(alice_api, thread):
    second = thread[1]
    body = assert_error(
        alice_api.post("/api/runs", {"regenerate_run_id": second["run_id"], "session_id": "x"}), 422
    )
    assert "not in session 'x'" in body["message"]
    body = assert_error(
        alice_api.post("/api/runs", {"regenerate_run_id": second["run_id"], "user_id": "bob"}), 422
    )
    assert "not 'bob'" in body["message"]
    assert Run.objects.count() == 3


def test_another_persons_run_is_not_found_and_an_unfinished_one_is_a_conflict(
    alice_api, bob_api, thread, alice
):
    assert_error(bob_api.post("/api/runs", {"regenerate_run_id": thread[1]["run_id"]}), 404)
    assert_error(alice_api.post("/api/runs", {"regenerate_run_id": "run_nope"}), 404)
    running = run_create(session=session_create(user=alice), input="Still going")
    body = assert_error(alice_api.post("/api/runs", {"regenerate_run_id": running.run_id}), 409)
    assert "cancel it first" in body["message"]
    assert Run.objects.count() == 4


def test_a_service_key_regenerates_for_its_person(service_api, thread):
    body = service_api.post("/api/runs", {"regenerate_run_id": thread[2]["run_id"]}).json()
    run = Run.objects.get(run_id=body["run_id"])
    assert run.user.username == "alice" and run.acting_user.username == "ops"


def test_a_streamed_regenerate_sends_the_runs_events_then_done(asgi_server, app_model, alice):
    token = apikey_create(user=alice, name="stream")[1]
    app_model.responder = lambda request: Reply(text="Another answer.")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=asgi_server, timeout=20) as client:
        first = client.post("/api/runs", json={"message": "Hi", "session_id": "s"}, headers=headers).json()
        response = client.post(
            "/api/runs", json={"regenerate_run_id": first["run_id"], "stream": True}, headers=headers
        )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    names = [line.split(": ", 1)[1] for line in response.text.splitlines() if line.startswith("event: ")]
    assert names[0] == "RunStarted" and names[-2:] == ["RunCompleted", "done"]
    new = Run.objects.exclude(run_id=first["run_id"]).get()
    assert (new.content, new.parent_id, new.input) == ("Another answer.", None, "Hi")
