"""The signed-in home page, sign in/out, health, and the admin for operators."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from agentapp.app_agent import configured_model
from sessions_app.models import AgentSession, SessionSummary
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_home_page_names_the_configured_model(client, alice):
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 200
    assert b"openai-chat:test-model" in response.content
    assert b"Offline demo model" not in response.content


def test_the_demo_model_is_announced_on_every_page(client, alice, settings):
    settings.AGENT_MODEL = "demo"
    configured_model.cache_clear()
    try:
        client.force_login(alice)
        assert b"Offline demo model" in client.get("/").content
        client.logout()
        assert b"Offline demo model" in client.get(reverse("login")).content
    finally:
        configured_model.cache_clear()


def test_the_home_page_lists_only_your_own_sessions(client, alice, bob):
    AgentSession.objects.create(session_id="alice-thread", user=alice)
    AgentSession.objects.create(session_id="bob-thread", user=bob)
    client.force_login(alice)
    body = client.get("/").content
    assert b"alice-thread" in body and b"bob-thread" not in body


def test_signing_in_and_out_works(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    client.post(reverse("logout"))
    assert client.get("/").status_code == 302


def test_health_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True


ADMIN_PAGES = [
    "sessions_app/agentsession",
    "sessions_app/run",
    "sessions_app/runevent",
    "sessions_app/message",
    "sessions_app/sessionsummary",
    "memory_app/memory",
    "memory_app/memorychange",
]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_operators_can_list_and_search_every_model_in_the_admin(client, staff, page, make_agent, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes tea"})])
    fake_openai.reply(text="ok")
    output = make_agent("chat", enable_agentic_memory=True).run(
        "I like tea", user_id="alice", session_id="s1"
    )
    SessionSummary.objects.create(session=AgentSession.objects.get(), text="Alice likes tea.")
    client.force_login(staff)

    listing = client.get(f"/admin/{page}/", {"q": "a"})
    assert listing.status_code == 200
    model = page.split("/")[1]
    from django.apps import apps

    obj = apps.get_model(page.split("/")[0], model).objects.first()
    assert obj is not None, output
    assert client.get(f"/admin/{page}/{obj.pk}/change/").status_code == 200


def test_runs_are_read_only_in_the_admin(client, staff):
    client.force_login(staff)
    assert client.get("/admin/sessions_app/run/add/").status_code == 403


def test_regular_users_cannot_open_the_admin(client, alice):
    client.force_login(alice)
    response = client.get("/admin/sessions_app/run/")
    assert response.status_code == 302


# A favicon on every page
def test_every_page_names_a_favicon_that_is_served(client, alice):
    client.force_login(alice)
    for url in ["/", "/memories/", "/runs/", "/settings/api-keys/", "/settings/data/"]:
        assert re.search(r'<link rel="icon" href="/static/favicon\.svg', client.get(url).content.decode()), (
            url
        )
    client.logout()
    assert 'rel="icon"' in client.get(reverse("login")).content.decode()
    assert finders.find("favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url == "/static/favicon.svg"
