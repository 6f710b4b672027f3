"""What the API refuses, it refuses before it writes anything, and its schema says so."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model

from memory_app.models import Memory
from sessions_app.models import AgentSession, Run
from tests import factories

pytestmark = pytest.mark.django_db

BLANKS = ["", " ", "\n\t", "\u3000", "\x1c", "\x85"]


@pytest.mark.parametrize("message", BLANKS, ids=repr)
def test_a_blank_message_leaves_no_session_and_no_new_person(service_api, replying_model, message):
    """Was: 422, with an empty session (and for a service key a new user) left behind."""
    response = service_api.post("/api/runs", {"message": message, "user_id": "newcomer"})

    assert response.status_code == 422
    assert not AgentSession.objects.exists() and not Run.objects.exists()
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_a_refused_run_for_a_new_person_leaves_no_one_behind(service_api, alice, replying_model):
    """The session belongs to someone else: refused after the schema, still nothing written."""
    factories.session(alice, "alices")

    response = service_api.post("/api/runs", {"message": "hi", "session_id": "alices", "user_id": "newcomer"})

    assert 400 <= response.status_code < 500
    assert not get_user_model().objects.filter(username="newcomer").exists()
    assert AgentSession.objects.count() == 1


def test_a_new_person_a_service_key_names_is_created_with_their_first_run(service_api, replying_model):
    response = service_api.post("/api/runs", {"message": "hi", "user_id": "newcomer"})

    assert response.status_code == 200, response.content
    assert response.json()["user_id"] == "newcomer"
    assert Run.objects.get().user.username == "newcomer"


@pytest.mark.parametrize("text", BLANKS, ids=repr)
def test_a_blank_memory_is_refused_and_leaves_no_new_person(service_api, text):
    response = service_api.post("/api/memories", {"text": text, "user_id": "newcomer"})

    assert response.status_code == 422
    assert not Memory.objects.exists()
    assert not get_user_model().objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("body", ['"AAA"', "[1]", "5", "null", "true"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("patch", "/api/sessions/alices"), ("post", "/api/runs"), ("post", "/api/memories")],
)
def test_a_body_that_is_not_a_json_object_is_refused(alice_api, alice, method, path, body):
    """Was: PATCH with the body "xyz" set the title to "Xyz" (str.title)."""
    factories.session(alice, "alices", title="Kept")

    response = getattr(alice_api.client, method)(
        path, data=body, content_type="application/json", headers=alice_api.headers
    )

    assert response.status_code == 422, response.content
    assert AgentSession.objects.get(session_id="alices").title == "Kept"
    assert Run.objects.count() == 0 and Memory.objects.count() == 0


def test_the_schema_says_a_message_and_a_memory_need_more_than_blanks(client):
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]

    for name, field in (("RunIn", "message"), ("MemoryIn", "text")):
        pattern = re.compile(schema[name]["properties"][field]["pattern"])
        assert [bool(pattern.search(s)) for s in BLANKS] == [False] * len(BLANKS), name
        assert pattern.search(" a ") and pattern.search("日本")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/sessions/mine", {"titel": "A typo"}),
        ("post", "/api/runs", {"message": "hi", "sesion_id": "mine"}),
        ("post", "/api/memories", {"text": "Likes tea", "replace": "mem_x"}),
    ],
)
def test_a_field_the_route_does_not_know_is_refused_and_nothing_changes(alice_api, alice, method, path, body):
    """Was: PATCH with a misspelt field answered 200 and changed nothing; POST dropped it."""
    factories.session(alice, "mine", title="Old title")

    response = getattr(alice_api, method)(path, body)

    assert response.status_code == 422
    assert next(iter(set(body) - {"message", "text"})) in response.content.decode()
    assert AgentSession.objects.get(session_id="mine").title == "Old title"
    assert Run.objects.count() == 0 and not Memory.objects.exists()


@pytest.mark.parametrize("path", ["/api/memories", "/api/runs"])
def test_a_form_body_where_json_is_expected_is_a_clear_4xx(alice_api, path):
    """Was: a multipart form POSTed to a JSON route was a 500 (the body read twice)."""
    response = alice_api.client.post(path, {"text": "Likes tea", "message": "hi"}, headers=alice_api.headers)

    assert 400 <= response.status_code < 500
    assert "json" in response.content.decode().lower()
    assert not Memory.objects.exists() and Run.objects.count() == 0


def _nested(depth: int) -> dict:
    state: dict = {"leaf": 1}
    for _ in range(depth):
        state = {"a": state}
    return state


@pytest.mark.parametrize(
    "state",
    [_nested(500), _nested(800), {"note": "\ud800"}, {"\udfff": "x"}, {"a": [["\ud83d"]]}],
    ids=["500 deep", "800 deep", "lone high surrogate", "lone low surrogate in a key", "nested surrogate"],
)
def test_a_session_state_too_deep_or_with_a_lone_surrogate_is_refused_with_a_message(alice_api, alice, state):
    """Was: a 500 (a recursion error, or a surrogate that cannot be encoded)."""
    factories.session(alice, "mine", title="Kept")

    response = alice_api.client.patch(
        "/api/sessions/mine",
        json.dumps({"session_state": state}, ensure_ascii=True),
        content_type="application/json",
        headers=alice_api.headers,
    )

    assert response.status_code == 422
    assert "session_state" in response.json()["message"]
    assert AgentSession.objects.get(session_id="mine").session_state in ({}, None)


@pytest.mark.parametrize("user_id", [".", "..", "..."])
def test_a_user_id_of_only_dots_is_refused(service_api, replying_model, user_id):
    """Was: "." and ".." became people (names that read as paths wherever a user id goes in a URL)."""
    from sessions_app.services import user_get_or_create

    response = service_api.post("/api/runs", {"message": "hi", "user_id": user_id})

    assert response.status_code == 422
    assert not get_user_model().objects.filter(username=user_id).exists()
    with pytest.raises(Exception, match="dot"):
        user_get_or_create(username=user_id)


def test_user_ids_are_case_sensitive_so_two_products_ids_never_merge_two_people(service_api, replying_model):
    """Decided (docs/api.md): ids are often opaque tokens whose case matters; emails are lower-cased
    by the product that sends them."""
    service_api.post("/api/runs", {"message": "I am the upper one", "user_id": "aBc123"})
    service_api.post("/api/runs", {"message": "I am the lower one", "user_id": "abc123"})

    upper = service_api.get("/api/sessions?user_id=aBc123").json()
    lower = service_api.get("/api/sessions?user_id=abc123").json()
    assert get_user_model().objects.filter(username__iexact="abc123").count() == 2
    assert upper["count"] == 1 and lower["count"] == 1
    assert upper["items"][0]["session_id"] != lower["items"][0]["session_id"]
