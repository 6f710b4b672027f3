"""The chat's "Don't remember this" (under the message) and "Forget" (on each of the person's messages,
with an Undo), as views: what they store, what they answer, whose they are."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memory_app import services as memory_services
from memory_app.models import Memory, MemoryChange
from sessions_app.models import AgentSession, Run
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def thread(alice):
    return factories.session(alice, "alice-thread", title="About me")


def test_a_message_sent_with_dont_remember_this_is_not_remembered(client, alice, thread):
    client.force_login(alice)
    send = reverse("sessions:send", args=[thread.session_id])

    client.post(send, {"message": "I live in Porto", "dont_remember": "on"}, **HTMX)
    client.post(send, {"message": "I like tea"}, **HTMX)

    assert list(thread.runs.order_by("pk").values_list("remember", flat=True)) == [False, True]


def test_a_new_chats_first_message_may_be_not_remembered(client, alice):
    client.force_login(alice)

    client.post(reverse("sessions:new"), {"message": "I live in Porto", "dont_remember": "on"})

    assert Run.objects.get().remember is False


def test_a_refused_first_message_keeps_its_toggle_ticked(client, alice):
    client.force_login(alice)

    body = client.post(reverse("sessions:new"), {"message": "  ", "dont_remember": "on"}).content.decode()

    assert 'name="dont_remember" id="composer-dont-remember" checked' in body


def test_the_composer_offers_the_toggle_except_in_a_temporary_chat(client, alice, thread):
    client.force_login(alice)
    assert 'name="dont_remember"' in client.get("/").content.decode()
    assert 'name="dont_remember"' in client.get(f"/chats/{thread.session_id}/").content.decode()
    temporary = factories.session(alice, "temp", temporary=True)
    factories.run(temporary, "hello")

    body = client.get(f"/chats/{temporary.session_id}/").content.decode()

    assert 'name="dont_remember"' not in body and "btn-forget" not in body


def test_each_message_offers_forget_or_says_it_is_not_remembered(client, alice, thread):
    remembered = factories.run(thread, "I like tea")
    not_remembered = factories.run(thread, "I live in Porto", remember=False)
    client.force_login(alice)

    body = client.get(f"/chats/{thread.session_id}/").content.decode()

    assert f'hx-post="/chat/runs/{remembered.run_id}/forget/"' in body
    assert f'hx-post="/chat/runs/{not_remembered.run_id}/forget/"' not in body
    assert "Not remembered" in body


def test_forget_removes_what_the_message_taught_and_offers_undo(client, alice, thread):
    run = factories.run(thread, "I live in Porto")
    memory_services.memory_create(user_pk=alice.pk, text="Lives in Porto", actor="model", run_pk=run.pk)
    memory_services.memory_create(user_pk=alice.pk, text="Likes tea", actor="person")
    client.force_login(alice)

    response = client.post(reverse("sessions:forget", args=[run.run_id]), **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Forgot what was learned from this: 1 memory removed." in body
    assert f'hx-post="/chat/runs/{run.run_id}/unforget/"' in body and "Not remembered" in body
    assert 'id="memory-panel"' in body and 'hx-swap-oob="true"' in body  # the panel, as it is now
    assert "Lives in Porto" not in body and "Likes tea" in body
    assert list(Memory.objects.current().values_list("text", flat=True)) == ["Likes tea"]
    undo = MemoryChange.objects.get(action="delete")
    assert (undo.actor, undo.actor_user) == ("person", alice)

    response = client.post(reverse("sessions:unforget", args=[run.run_id]), **HTMX)

    body = response.content.decode()
    assert "Remembered again: 1 memory back." in body and "Lives in Porto" in body
    assert f'hx-post="/chat/runs/{run.run_id}/forget/"' in body
    assert Memory.objects.current().count() == 2 and Run.objects.get(pk=run.pk).remember is True


def test_forget_without_htmx_goes_back_to_the_message(client, alice, thread):
    run = factories.run(thread, "I live in Porto")
    client.force_login(alice)

    response = client.post(reverse("sessions:forget", args=[run.run_id]))

    assert response.status_code == 302 and response.url == f"/chats/{thread.session_id}/#message-{run.run_id}"
    assert Run.objects.get(pk=run.pk).remember is False


def test_another_persons_message_cannot_be_forgotten_and_staff_forget_as_operators(
    client, alice, bob, staff, thread
):
    run = factories.run(thread, "I live in Porto")
    memory_services.memory_create(user_pk=alice.pk, text="Lives in Porto", actor="model", run_pk=run.pk)
    client.force_login(bob)
    assert client.post(reverse("sessions:forget", args=[run.run_id]), **HTMX).status_code == 404
    assert Run.objects.get(pk=run.pk).remember is True

    client.force_login(staff)
    assert client.post(reverse("sessions:forget", args=[run.run_id]), **HTMX).status_code == 200

    undo = MemoryChange.objects.get(action="delete")
    assert (undo.actor, undo.actor_user) == ("operator", staff)
    assert not AgentSession.objects.filter(user=staff).exists()
