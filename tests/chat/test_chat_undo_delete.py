"""Deleting a chat can be undone: it is hidden at once (sidebar, search, its page, the API's lists,
search_past_sessions, Agno's session verbs, the export), a toast offers Undo, which brings it back
exactly, with or without JavaScript; the sweep deletes it for good AGENT_CHAT_UNDO_SECONDS later.
The API's DELETE stays final."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agentapp.accounts.services import user_data_counts, user_data_erase, user_data_export
from agentapp.db import DjangoDb
from agentapp.errors import SessionNotFound, SessionOwnedByAnotherUser
from apikeys.services import apikey_create
from memory_app.models import Memory
from sessions_app import jobs, selectors, services
from sessions_app.models import AgentSession, Message, Run
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def chats(alice):
    """Three chats of alice's, the middle one active in between: the list's order is older, thread, newer."""
    older = factories.session(alice, "older", title="Older chat")
    thread = factories.session(alice, "alice-thread", title="Trip to Lisbon")
    factories.finished_run(thread, "Where should I stay in Lisbon?", "Try **Alfama**.")
    factories.finished_run(thread, "And to eat?", "Pastéis de nata.")
    newer = factories.session(alice, "newer", title="Newer chat")
    now = timezone.now()
    for age, session in ((3, older), (2, thread), (1, newer)):
        AgentSession.objects.filter(pk=session.pk).update(updated_at=now - timedelta(hours=age))
    return older, AgentSession.objects.get(pk=thread.pk), newer


def _sidebar_ids(client) -> list[str]:
    body = client.get("/").content.decode()
    return [sid for sid in ("newer", "alice-thread", "older") if f'id="session-{sid}"' in body]


def _delete(client, session_id: str = "alice-thread", *, current: str = "http://testserver/"):
    return client.post(reverse("sessions:delete", args=[session_id]), HTTP_HX_CURRENT_URL=current, **HTMX)


def _deleted(session_id: str = "alice-thread") -> bool:
    return AgentSession.objects.get(session_id=session_id).deleted_at is not None


def test_deleting_a_chat_hides_it_at_once_and_its_entry_becomes_a_toast_with_undo(client, alice, chats):
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "hx-confirm" not in page and "This cannot be undone" not in page  # no confirm() any more

    response = _delete(client)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="deleted-alice-thread" class="session-item session-toast"' in body
    assert (
        '<span class="session-toast-text" role="status">Chat deleted: ' in body and "Trip to Lisbon" in body
    )
    restore = reverse("sessions:restore", args=["alice-thread"])
    assert f'action="{restore}"' in body and f'hx-post="{restore}"' in body
    assert '<button type="submit" class="session-undo" autofocus>Undo</button>' in body
    assert _deleted() and Run.objects.filter(session__session_id="alice-thread").count() == 2
    assert _sidebar_ids(client) == ["newer", "older"]


def test_undo_brings_the_chat_back_exactly_in_its_place(client, alice, chats):
    _, thread, _ = chats
    client.force_login(alice)
    messages = Message.objects.filter(session=thread).count()
    _delete(client)

    response = client.post(reverse("sessions:restore", args=["alice-thread"]), **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="session-alice-thread" class="session-item"' in body and "Trip to Lisbon" in body
    restored = AgentSession.objects.get(pk=thread.pk)
    assert restored.deleted_at is None
    assert (restored.title, restored.updated_at) == (thread.title, thread.updated_at)
    assert Run.objects.filter(session=thread).count() == 2
    assert Message.objects.filter(session=thread).count() == messages
    assert _sidebar_ids(client) == ["newer", "alice-thread", "older"]
    assert client.get(reverse("sessions:detail", args=["alice-thread"])).status_code == 200


def test_without_javascript_delete_and_undo_are_plain_forms_and_redirects(client, alice, chats):
    client.force_login(alice)
    sidebar = client.get("/").content.decode()
    delete = reverse("sessions:delete", args=["alice-thread"])
    assert f'<form class="session-delete" method="post" action="{delete}"' in sidebar

    response = client.post(delete)

    assert response.status_code == 302 and response.url == "/?deleted=alice-thread"
    home = client.get(response.url).content.decode()
    assert '<div class="chat-toast session-toast" id="chat-toast">' in home
    assert '<span class="session-toast-text" role="status">Chat deleted: ' in home
    restore = reverse("sessions:restore", args=["alice-thread"])
    assert f'method="post" action="{restore}"' in home and 'name="csrfmiddlewaretoken"' in home
    assert f'hx-post="{restore}"' not in home  # the page's toast is a plain form, which opens the chat

    back = client.post(restore)

    assert back.status_code == 302 and back.url == "/chats/alice-thread/"
    assert not _deleted()
    assert "chat-toast" not in client.get("/?deleted=alice-thread").content.decode()  # nothing to undo


def test_deleting_the_open_chat_sends_the_browser_home_with_the_toast(client, alice, chats):
    client.force_login(alice)

    response = _delete(client, current="http://testserver/chats/alice-thread/")

    assert response["HX-Redirect"] == "/?deleted=alice-thread"
    assert _deleted()


def test_a_deleted_chat_is_hidden_from_every_list_and_its_page_is_not_found(client, alice, chats):
    client.force_login(alice)
    run = Run.objects.filter(session__session_id="alice-thread").first()
    _delete(client)
    assert _deleted()  # still stored, for its Undo: hidden, not gone

    found = client.get(reverse("sessions:list"), {"q": "Lisbon"}, **HTMX).content.decode()
    assert "alice-thread" not in found and "No chats match" in found
    for url in (
        "/chats/alice-thread/",
        "/chats/alice-thread/export/?format=markdown",
        "/chats/alice-thread/item/",
        f"/runs/{run.run_id}/",
        "/sessions/alice-thread/timeline/",
    ):
        assert client.get(url).status_code == 404, url
    assert "alice-thread" not in client.get("/runs/").content.decode()

    # The API: its list, its page, its runs.
    api = Client(headers={"Authorization": f"Bearer {apikey_create(user=alice, name='k')[1]}"})
    listed = api.get("/api/sessions").json()
    assert sorted(s["session_id"] for s in listed["items"]) == ["newer", "older"]
    assert api.get("/api/sessions", {"search": "Lisbon"}).json()["items"] == []
    assert api.get("/api/sessions/alice-thread").status_code == 404
    assert api.get(f"/api/runs/{run.run_id}").status_code == 404

    # search_past_sessions and Agno's session verbs.
    assert [s.session_id for s in selectors.sessions_of_username(username="alice", limit=10)] == [
        "newer",
        "older",
    ]
    db = DjangoDb()
    assert sorted(s.session_id for s in db.get_sessions("alice")) == ["newer", "older"]
    assert sorted(s.session_id for s in db.user_sessions(user_id="alice", limit=10)) == ["newer", "older"]
    assert db.get_session("alice-thread", "alice") is None

    # The person's export and what the data page counts.
    assert sorted(s["session_id"] for s in user_data_export(user=alice)["sessions"]) == ["newer", "older"]
    assert user_data_counts(user=alice)["sessions"] == 2 and user_data_counts(user=alice)["runs"] == 0


def test_a_new_turn_in_a_deleted_chat_is_refused(alice, bob, chats):
    services.session_soft_delete(session=chats[1])

    with pytest.raises(SessionNotFound):
        services.session_get_or_create_for_run(session_id="alice-thread", username="alice")
    with pytest.raises(SessionOwnedByAnotherUser):  # to another person, what it always said
        services.session_get_or_create_for_run(session_id="alice-thread", username="bob")


def test_deleting_a_chat_stops_its_run_in_progress(alice, chats):
    _, thread, _ = chats
    running = factories.run(thread, "Tell me more", status=Run.Status.RUNNING)

    assert services.session_soft_delete(session=thread) is True

    running.refresh_from_db()
    assert running.status == Run.Status.CANCELLED and running.ended_at is not None
    assert services.session_soft_delete(session=thread) is False  # once


def test_another_person_cannot_delete_or_undo_and_an_operator_may(client, alice, bob, staff, chats):
    client.force_login(alice)
    _delete(client)
    restore = reverse("sessions:restore", args=["alice-thread"])

    client.force_login(bob)
    assert client.post(restore).status_code == 404
    assert client.post(reverse("sessions:delete", args=["newer"])).status_code == 404
    assert _deleted() and not _deleted("newer")

    client.force_login(staff)
    assert client.post(restore).status_code == 302
    assert not _deleted()


def test_the_sweep_deletes_it_for_good_once_undo_is_too_late(client, alice, chats, settings):
    settings.AGENT_CHAT_UNDO_SECONDS = 600
    settings.AGENT_BACKGROUND_TASKS = "inline"
    older, thread, _ = chats
    learned = Memory.objects.create(
        user=alice,
        text="Alice likes Lisbon",
        normalized_text="alice likes lisbon",
        source_run=thread.runs.first(),
    )
    services.session_soft_delete(session=thread)
    services.session_soft_delete(session=older)
    AgentSession.objects.filter(pk=thread.pk).update(deleted_at=timezone.now() - timedelta(seconds=601))
    runs = list(Run.objects.filter(session=thread).values_list("pk", flat=True))

    client.force_login(alice)
    assert client.post(reverse("sessions:restore", args=["alice-thread"])).status_code == 404  # too late

    assert jobs.sweep()["deleted"] == 1

    assert set(AgentSession.objects.values_list("session_id", flat=True)) == {"older", "newer"}
    assert not Run.objects.filter(pk__in=runs).exists()
    assert not Message.objects.filter(run_id__in=runs).exists()
    learned.refresh_from_db()  # the memory stays, as with a delete today: it is the person's
    assert learned.source_run_id is None
    assert client.post(reverse("sessions:restore", args=["older"])).status_code == 302  # still in time
    assert jobs.sweep()["deleted"] == 0


def test_the_purge_goes_in_batches(alice):
    for i in range(5):
        services.session_soft_delete(session=factories.session(alice, f"gone-{i}"))
    AgentSession.objects.update(deleted_at=timezone.now() - timedelta(hours=1))

    assert services.sessions_purge_deleted(older_than=timedelta(minutes=10), batch=2, batches=2) == 4
    assert services.sessions_purge_deleted(older_than=timedelta(minutes=10), batch=2, batches=2) == 1
    assert not AgentSession.objects.exists()


def test_the_api_delete_stays_final(alice, chats):
    api = Client(headers={"Authorization": f"Bearer {apikey_create(user=alice, name='k')[1]}"})

    assert api.delete("/api/sessions/alice-thread").status_code == 204

    assert not AgentSession.objects.filter(session_id="alice-thread").exists()
    assert not Run.objects.filter(session__session_id="alice-thread").exists()


def test_an_erase_takes_the_deleted_chats_too(alice, chats):
    services.session_soft_delete(session=chats[1])

    erased = user_data_erase(user=alice)

    assert erased["sessions"] == 2  # what the data page counted
    assert not AgentSession.objects.filter(user=alice).exists()
