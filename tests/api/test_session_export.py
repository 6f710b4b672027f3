"""One chat exported: `GET /api/sessions/{id}/export`, JSON (the full export's shape) or Markdown."""

from __future__ import annotations

import pytest

from sessions_app.models import Run
from tests.factories import finished_run, run, session

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(alice):
    """Two turns; the second has an older version not shown (its reply must not be in the Markdown)."""
    thread = session(alice, "trip-1", title="Trip to Lisbon: plans")
    first = finished_run(thread, "Where should I stay?", "Alfama is lovely.")
    run(thread, "Is it cheap?", parent=first, content="An old answer.", shown_at=first.shown_at)
    edited = finished_run(thread, "Is it affordable?", "Mostly, yes.")
    Run.objects.filter(pk=edited.pk).update(parent=first)  # the newer version of the second turn
    return thread


def test_the_owner_gets_the_session_as_the_full_export_gives_it(alice_api, chat):
    response = alice_api.get("/api/sessions/trip-1/export")
    assert response.status_code == 200, response.content
    body = response.json()
    whole = alice_api.get("/api/users/alice/export").json()
    [same] = [s for s in whole["sessions"] if s["session_id"] == "trip-1"]
    assert body == same
    assert [(r["input"], r["shown"]) for r in body["runs"]] == [
        ("Where should I stay?", True),
        ("Is it cheap?", False),
        ("Is it affordable?", True),
    ]
    assert body["runs"][0]["messages"][-1]["content"] == "Alfama is lovely."


def test_the_markdown_is_the_thread_the_chat_shows(alice_api, chat):
    response = alice_api.get("/api/sessions/trip-1/export", format="markdown")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="trip-to-lisbon-plans.md"'
    text = response.content.decode()
    assert text.startswith("# Trip to Lisbon: plans\n")
    assert text.count("**You:**") == 2 and text.count("**Agent:**") == 2
    assert (
        text.index("Where should I stay?") < text.index("Alfama is lovely.") < text.index("Is it affordable?")
    )
    assert "Mostly, yes." in text
    assert "Is it cheap?" not in text and "An old answer." not in text
    assert " UTC)_" in text  # each message with its time


def test_a_reply_that_failed_says_so(alice_api, alice):
    thread = session(alice, "oops-1")
    run(thread, "Hello?", status=Run.Status.ERROR, error="the model timed out")
    response = alice_api.get("/api/sessions/oops-1/export", format="markdown")
    assert response["Content-Disposition"] == 'attachment; filename="chat-oops-1.md"'
    assert "# Chat\n" in response.content.decode()
    assert "no reply: the model timed out" in response.content.decode()


def test_another_persons_chat_is_not_found_and_a_service_key_may_act(
    alice_api, bob_api, service_api, anon_api, chat
):
    assert_error(bob_api.get("/api/sessions/trip-1/export"), 404)
    assert_error(bob_api.get("/api/sessions/trip-1/export", format="markdown"), 404)
    assert_error(anon_api.get("/api/sessions/trip-1/export"), 401)
    assert_error(alice_api.get("/api/sessions/nothing-here/export"), 404)
    assert service_api.get("/api/sessions/trip-1/export").json()["session_id"] == "trip-1"
    markdown = service_api.get("/api/sessions/trip-1/export", format="markdown")
    assert markdown.status_code == 200 and "Alfama is lovely." in markdown.content.decode()


def test_an_unknown_format_is_refused(alice_api, chat):
    assert_error(alice_api.get("/api/sessions/trip-1/export", format="pdf"), 422)
