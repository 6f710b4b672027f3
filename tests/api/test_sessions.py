from __future__ import annotations

import pytest

from sessions_app.models import AgentSession, Run, SessionSummary
from sessions_app.services import run_create, session_create

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_session(alice):
    session = session_create(user=alice, title="Trip to Lisbon")
    run_create(session=session, input="Book a flight")
    return session


def test_the_session_list_is_the_callers_own_with_a_total(alice, alice_api, bob, alice_session):
    session_create(user=bob, title="Bob's thread")
    session_create(user=alice, title="Groceries")
    body = alice_api.get("/api/sessions").json()
    assert body["count"] == 2
    assert {s["title"] for s in body["items"]} == {"Trip to Lisbon", "Groceries"}
    assert {s["user_id"] for s in body["items"]} == {"alice"}


def test_the_session_list_searches_sorts_and_pages(alice, alice_api, alice_session):
    for title in ("Boat", "Car", "Apple"):
        session_create(user=alice, title=title)
    body = alice_api.get("/api/sessions", search="lisbon").json()
    assert [s["session_id"] for s in body["items"]] == [alice_session.session_id]
    titles = [s["title"] for s in alice_api.get("/api/sessions", sort="title").json()["items"]]
    assert titles == ["Apple", "Boat", "Car", "Trip to Lisbon"]
    page = alice_api.get("/api/sessions", sort="-title", limit=2, offset=1).json()
    assert page["count"] == 4
    assert [s["title"] for s in page["items"]] == ["Car", "Boat"]


def test_the_session_list_validates_its_query(alice_api):
    assert_error(alice_api.get("/api/sessions", sort="password"), 422)
    assert_error(alice_api.get("/api/sessions", limit=0), 422)
    assert_error(alice_api.get("/api/sessions", limit=1000), 422)
    assert_error(alice_api.get("/api/sessions", search="a\x00b"), 400)  # the NUL guard, before the route


def test_the_session_list_acts_for_a_user_only_with_a_service_key(
    alice_api, bob_api, service_api, anon_api, alice_session
):
    assert_error(bob_api.get("/api/sessions", user_id="alice"), 404)
    assert_error(anon_api.get("/api/sessions"), 401)
    assert alice_api.get("/api/sessions", user_id="alice").json()["count"] == 1
    assert service_api.get("/api/sessions", user_id="alice").json()["count"] == 1
    assert_error(service_api.get("/api/sessions", user_id="nobody"), 404)


def test_a_session_is_read_by_its_owner_and_staff_only(
    alice_api, bob_api, service_api, anon_api, alice_session
):
    path = f"/api/sessions/{alice_session.session_id}"
    body = alice_api.get(path).json()
    assert body["title"] == "Trip to Lisbon"
    assert body["session_state"] == {}
    assert service_api.get(path).status_code == 200
    assert_error(bob_api.get(path), 404)
    assert_error(anon_api.get(path), 401)
    assert_error(alice_api.get("/api/sessions/ses_missing"), 404)


def test_a_session_is_renamed_by_its_owner(alice_api, bob_api, anon_api, alice_session):
    path = f"/api/sessions/{alice_session.session_id}"
    assert alice_api.patch(path, {"title": "  Lisbon   in May "}).json()["title"] == "Lisbon in May"
    assert_error(alice_api.patch(path, {"title": "x" * 201}), 422)
    assert_error(alice_api.patch(path, {}), 422)
    assert_error(bob_api.patch(path, {"title": "mine now"}), 404)
    assert_error(anon_api.patch(path, {"title": "mine now"}), 401)
    alice_session.refresh_from_db()
    assert alice_session.title == "Lisbon in May"


def test_a_session_is_deleted_with_its_runs_by_its_owner(alice_api, bob_api, anon_api, alice_session):
    path = f"/api/sessions/{alice_session.session_id}"
    assert_error(bob_api.delete(path), 404)
    assert_error(anon_api.delete(path), 401)
    response = alice_api.delete(path)
    assert response.status_code == 204
    assert not AgentSession.objects.exists()
    assert not Run.objects.exists()
    assert_error(alice_api.delete(path), 404)


def test_a_sessions_runs_are_listed_newest_first(alice_api, bob_api, anon_api, alice_session):
    run_create(session=alice_session, input="And a hotel")
    path = f"/api/sessions/{alice_session.session_id}/runs"
    body = alice_api.get(path).json()
    assert body["count"] == 2
    assert [r["input"] for r in body["items"]] == ["And a hotel", "Book a flight"]
    assert_error(alice_api.get(path, limit=-1), 422)
    assert_error(bob_api.get(path), 404)
    assert_error(anon_api.get(path), 401)


def test_a_session_summary_is_empty_until_written(alice_api, bob_api, anon_api, alice_session):
    path = f"/api/sessions/{alice_session.session_id}/summary"
    assert alice_api.get(path).json() == {
        "session_id": alice_session.session_id,
        "text": "",
        "topics": [],
        "last_run_id": None,
        "updated_at": None,
    }
    SessionSummary.objects.create(session=alice_session, text="Planning a trip.", topics=["travel"])
    body = alice_api.get(path).json()
    assert (body["text"], body["topics"]) == ("Planning a trip.", ["travel"])
    assert_error(bob_api.get(path), 404)
    assert_error(anon_api.get(path), 401)


def test_a_summary_refresh_runs_the_summary_now_without_workers(
    alice_api, bob_api, anon_api, alice_session, app_model
):
    Run.objects.update(status=Run.Status.COMPLETED, content="Booked.")
    app_model.reply(text="Alice is booking a flight to Lisbon.")
    path = f"/api/sessions/{alice_session.session_id}/summary/refresh"
    assert_error(bob_api.post(path), 404)
    assert_error(anon_api.post(path), 401)
    response = alice_api.post(path)
    assert response.status_code == 202, response.content
    assert response.json() == {"session_id": alice_session.session_id, "status": "updated"}
    assert "Lisbon" in SessionSummary.objects.get(session=alice_session).text


def test_a_summary_refresh_is_enqueued_when_workers_run_tasks(
    alice_api, alice_session, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    path = f"/api/sessions/{alice_session.session_id}/summary/refresh"
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_api.post(path)
    assert response.json()["status"] == "enqueued"
    assert len(callbacks) == 1
