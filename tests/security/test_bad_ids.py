"""Ids that enter from outside: checked where they come in; pages still work for one already stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from agentapp.agent import InvalidInput
from apikeys.services import apikey_create
from sessions_app import services
from sessions_app.models import AgentSession, Run
from tests import factories

pytestmark = pytest.mark.django_db

BAD_SESSION_IDS = ["a/b", "../x", "a b", "tab\there", "?q", "#frag", "x" * 129, "", "\u202eevil", "\uff46ull"]


@pytest.mark.parametrize("session_id", BAD_SESSION_IDS)
def test_the_api_refuses_a_session_id_with_characters_an_address_cannot_carry(staff, session_id):
    token = apikey_create(user=staff, name="backend")[1]
    response = Client().post(
        "/api/runs",
        {"message": "hi", "session_id": session_id, "user_id": "sarah"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 422, response.content
    assert not AgentSession.objects.exists()


@pytest.mark.parametrize("session_id", ["a/b", "a b"])
def test_the_python_api_refuses_them_too(make_agent, session_id):
    with pytest.raises(InvalidInput):
        make_agent().run("hi", user_id="sarah", session_id=session_id)


@pytest.mark.parametrize("session_id", ["thread-42", "ses_0f3a", "sarah@acme.com:2026-12-01", "a.b+c_d"])
def test_ordinary_ids_are_taken(make_agent, fake_openai, session_id):
    fake_openai.reply(text="Hello.")
    assert make_agent().run("hi", user_id="sarah", session_id=session_id).status == "completed"


def test_a_session_whose_id_holds_a_slash_still_opens_lists_and_deletes(client, alice):
    """Was: such a session (a service key could make one) made the chat, the sidebar and the run pages
    answer 500 for good, and it could not be deleted."""
    session = AgentSession.objects.create(session_id="legacy/one", user=alice, title="Old")
    run = factories.run(session, "hello", content="Hi!")
    client.force_login(alice)

    assert client.get("/").status_code == 200  # the sidebar lists it
    assert client.get("/chats/legacy/one/").status_code == 200
    assert client.get("/runs/").status_code == 200
    assert client.get(f"/runs/{run.run_id}/").status_code == 200
    assert client.get("/sessions/legacy/one/timeline/").status_code == 200
    deleted = client.post("/chats/legacy/one/delete/")
    assert deleted.status_code == 302 and deleted.url == "/?deleted=legacy%2Fone"
    assert "Chat deleted" in client.get(deleted.url).content.decode()  # with its Undo
    assert client.post("/chats/legacy/one/restore/").status_code == 302
    assert client.get("/chats/legacy/one/").status_code == 200
    client.post("/chats/legacy/one/delete/")
    assert services.sessions_purge_deleted(older_than=timedelta(0)) == 1
    assert not AgentSession.objects.filter(pk=session.pk).exists() and not Run.objects.exists()


def test_a_service_key_cannot_create_a_user_whose_name_is_not_a_username(staff):
    token = apikey_create(user=staff, name="backend")[1]
    response = Client().post(
        "/api/runs",
        {"message": "hi", "user_id": "a/b c"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
