"""`POST /api/runs/{run_id}/feedback`: thumbs up or down with an optional comment, the run's person's
own (a service key relays it, recorded as theirs), and the run's detail showing it."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from sessions_app.models import Run, RunFeedback
from tests import factories

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(alice) -> Run:
    return factories.finished_run(factories.session(alice, "alice-thread"), "Plan my day", "Here is a plan.")


def _url(run: Run) -> str:
    return f"/api/runs/{run.run_id}/feedback"


def _counted(rating: str) -> float:
    return REGISTRY.get_sample_value("agentapp_feedback_total", {"rating": rating}) or 0.0


def test_a_person_rates_their_reply_and_the_run_shows_it(alice_api, reply):
    before = _counted("down")
    response = alice_api.post(_url(reply), {"rating": "down", "comment": "Wrong date"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("run_id", "user_id", "rating", "comment")} == {
        "run_id": reply.run_id,
        "user_id": "alice",
        "rating": "down",
        "comment": "Wrong date",
    }
    assert body["created_at"] and body["updated_at"]
    assert _counted("down") == before + 1

    detail = alice_api.get(f"/api/runs/{reply.run_id}").json()
    assert detail["feedback"]["rating"] == "down" and detail["feedback"]["comment"] == "Wrong date"


def test_giving_it_again_replaces_it_and_an_omitted_comment_stays(alice_api, reply):
    alice_api.post(_url(reply), {"rating": "down", "comment": "Too long"})
    body = alice_api.post(_url(reply), {"rating": "up"}).json()
    assert (body["rating"], body["comment"]) == ("up", "Too long")
    body = alice_api.post(_url(reply), {"rating": "up", "comment": ""}).json()
    assert body["comment"] == ""
    assert RunFeedback.objects.count() == 1


def test_a_run_without_feedback_shows_none(alice_api, reply):
    assert alice_api.get(f"/api/runs/{reply.run_id}").json()["feedback"] is None


def test_another_persons_run_is_not_found(bob_api, reply):
    assert_error(bob_api.post(_url(reply), {"rating": "up"}), 404)
    assert_error(bob_api.post("/api/runs/run_nope/feedback", {"rating": "up"}), 404)
    assert not RunFeedback.objects.exists()


def test_a_service_key_relays_its_persons_feedback_recorded_as_theirs(service_api, staff, reply):
    body = service_api.post(_url(reply), {"rating": "up", "comment": "Relayed from the app"}).json()
    assert body["user_id"] == "alice"
    feedback = RunFeedback.objects.get()
    assert feedback.user.username == "alice" and feedback.user != staff


def test_anonymous_is_refused(anon_api, reply):
    assert_error(anon_api.post(_url(reply), {"rating": "up"}), 401)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rating": "sideways"},
        {"rating": None},
        {"rating": 1},
        {"rating": "up", "comment": None},
        {"rating": "up", "comment": "x" * 2001},
        {"rating": "up", "comment": "nul\u0000"},
        {"rating": "up", "stars": 5},
        {"comment": "no rating"},
    ],
)
def test_bad_input_is_a_422_with_a_message(alice_api, reply, body):
    assert_error(alice_api.post(_url(reply), body), 422)
    assert not RunFeedback.objects.exists()


def test_a_body_that_is_not_an_object_is_refused(alice_api, reply):
    assert alice_api.client.post(
        _url(reply), data='"up"', content_type="application/json", headers=alice_api.headers
    ).status_code in (400, 422)


@pytest.mark.parametrize("status", [Run.Status.RUNNING, Run.Status.ERROR, Run.Status.CANCELLED])
def test_a_reply_not_completed_is_a_409_with_its_status(alice, alice_api, status):
    run = factories.run(factories.session(alice), "hello", status=status)
    body = assert_error(alice_api.post(_url(run), {"rating": "up"}), 409)
    assert body["detail"] == {"status": status}
    assert "only a completed reply can be rated" in body["message"]


def test_the_schema_documents_the_route_and_the_runs_feedback(alice_api):
    schema = alice_api.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/runs/{run_id}/feedback"]["post"]
    assert {"200", "401", "404", "409", "422"} <= set(operation["responses"])
    body = schema["components"]["schemas"]["FeedbackIn"]
    assert body["properties"]["rating"]["enum"] == ["up", "down"]
    assert body["properties"]["comment"]["maxLength"] == 2000
    assert body["required"] == ["rating"] and body["additionalProperties"] is False
    assert "feedback" in schema["components"]["schemas"]["RunDetailOut"]["properties"]
