"""A new chat whose title a worker has not written yet says so, and keeps asking for it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sessions_app.models import AgentSession
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PENDING = "title pending…"


def test_an_untitled_chat_says_its_title_is_pending_until_it_arrives(client, alice):
    thread = factories.session(alice, "fresh-chat")
    factories.finished_run(thread, "Plan a weekend in Porto", "Sure.")
    client.login(username="alice", password=PASSWORD)
    page = client.get(reverse("sessions:detail", args=["fresh-chat"])).content.decode()
    entry = page.split('id="session-fresh-chat"')[1].split("</li>")[0]
    assert "Plan a weekend in Porto" in entry and PENDING in entry

    AgentSession.objects.filter(session_id="fresh-chat").update(title="Weekend in Porto")
    page = client.get(reverse("sessions:detail", args=["fresh-chat"])).content.decode()
    entry = page.split('id="session-fresh-chat"')[1].split("</li>")[0]
    assert "Weekend in Porto" in entry and PENDING not in entry


def test_only_the_owner_asks_for_the_pending_title(client, alice, bob):
    factories.session(alice, "alices")
    url = reverse("sessions:item", args=["alices"]) + "?tries=11"
    assert client.get(url).url.startswith("/login/")
    client.login(username="bob", password=PASSWORD)
    assert client.get(url).status_code == 404
    client.login(username="alice", password=PASSWORD)
    entry = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert PENDING in entry and 'hx-trigger="load delay:30s"' in entry
