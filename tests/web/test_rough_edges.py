"""The rough edges a new user met (issue 18), each pinned by a test that failed before its fix."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse

from agentapp.accounts.models import Preferences
from apikeys.models import ApiKey
from apikeys.services import apikey_authenticate
from memory_app import services as memory_services
from memory_app.models import Memory
from sessions_app.models import AgentSession
from tests import factories

pytestmark = pytest.mark.django_db


# 2. A blank first message on the home page
@pytest.mark.parametrize("message", ["", "   \n  "])
def test_a_blank_first_message_without_htmx_shows_the_home_page_with_the_reason_and_makes_no_chat(
    client, alice, message
):
    client.force_login(alice)
    response = client.post(reverse("sessions:new"), {"message": message})
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="composer"' in body and "message must not be empty" in body
    assert not AgentSession.objects.exists()


def test_a_refused_first_message_is_kept_in_the_box(client, alice):
    client.force_login(alice)
    too_long = "x" * 32_001
    response = client.post(reverse("sessions:new"), {"message": too_long})
    assert response.status_code == 422
    assert too_long in response.content.decode()  # nothing typed is lost
    assert not AgentSession.objects.exists()


def test_a_blank_first_message_over_htmx_answers_the_reason_for_the_inline_error(client, alice):
    client.force_login(alice)
    response = client.post(reverse("sessions:new"), {"message": " "}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and response.content == b"message must not be empty"
    assert not AgentSession.objects.exists()


# 7. Friendly error pages, in the app's look (DEBUG is off unless a laptop target turns it on)
def test_a_missing_chat_gets_the_friendly_404_page_not_the_url_list(client, alice, settings):
    assert settings.DEBUG is False
    client.force_login(alice)
    response = client.get("/chats/does-not-exist/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Nothing here" in body and "css/app.css" in body
    assert "URLconf" not in body and "urlpatterns" not in body


def test_the_500_page_is_the_apps_own():
    body = render_to_string("500.html")
    assert "css/app.css" in body and "favicon.svg" in body and "Back to your chats" in body


# 8. A favicon on every page
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


# 11. A long session's timeline numbers its runs as turns of the whole session
def test_the_timeline_of_a_250_run_session_numbers_the_runs_it_shows_from_their_place_in_the_session(
    client, alice
):
    session = factories.session(alice, "long-thread")
    for i in range(250):
        factories.run(session, f"message {i + 1}")
    client.force_login(alice)
    body = client.get(reverse("runs:session_timeline", args=["long-thread"])).content.decode()
    shown = re.findall(r'<span class="tl-label" title="message (\d+)">(\d+)\. ', body)
    assert shown, "no rows"
    assert all(label == number for number, label in shown), shown[:3]
    first = shown[0][1]
    assert f'<ol class="tl-rows" id="session-timeline" start="{first}">' in body
    assert first != "1"


# 13. API keys and erasure: Post/Redirect/Get, the key shown once and never re-created
def test_creating_a_key_redirects_and_the_next_page_shows_the_secret_once(client, alice):
    client.force_login(alice)
    response = client.post(reverse("apikeys:list"), {"name": "billing backend"})
    assert response.status_code == 303 and response.url == reverse("apikeys:list")
    shown = client.get(reverse("apikeys:list"))
    token = shown.context["new_token"]
    assert token and token in shown.content.decode()
    assert apikey_authenticate(token=token).user == alice
    again = client.get(reverse("apikeys:list")).content.decode()  # a reload
    assert token not in again and "billing backend" in again
    assert ApiKey.objects.count() == 1


def test_the_new_key_page_offers_a_copy_button_and_revoke_asks_first(client, alice):
    client.force_login(alice)
    client.post(reverse("apikeys:list"), {"name": "laptop"})
    body = client.get(reverse("apikeys:list")).content.decode()
    assert 'data-copy="#new-key-token"' in body
    assert "data-confirm=" in body


def test_a_keys_secret_is_shown_only_to_the_person_who_made_it(client, alice, bob):
    client.force_login(alice)
    client.post(reverse("apikeys:list"), {"name": "mine"})
    client.force_login(bob)  # another person, another session
    assert client.get(reverse("apikeys:list")).context["new_token"] is None


def test_erasing_redirects_and_the_page_after_says_what_went_once(client, alice):
    session = factories.session(alice, "s1")
    factories.run(session, "hello")
    memory_services.memory_create(user_pk=alice.pk, text="Alice likes trains", actor="person")
    client.force_login(alice)
    response = client.post(reverse("accounts:data-erase"), {"confirm": "alice"})
    assert response.status_code == 303 and response.url == reverse("accounts:data")
    body = " ".join(client.get(reverse("accounts:data")).content.decode().split())
    assert 'id="erased"' in body and "1 chat, 1 run" in body and "1 memory are gone" in body
    assert 'id="erased"' not in client.get(reverse("accounts:data")).content.decode()
    assert not Memory.objects.filter(user=alice).exists()


# 14. The admin edits a memory's topics as a list, not as raw JSON
def test_the_admin_edits_a_memorys_topics_as_a_comma_separated_list(client, staff, alice):
    memory, _ = memory_services.memory_create(
        user_pk=alice.pk, text="Alice likes tea", topics=["food", "drinks"], actor="person"
    )
    client.force_login(staff)
    url = reverse("admin:memory_app_memory_change", args=[memory.pk])
    body = client.get(url).content.decode()
    assert 'name="topics" value="food, drinks"' in body
    assert '<textarea name="topics"' not in body  # was: the JSON list in a text area
    form = {"text": "Alice likes green tea", "topics": "food, tea , ", "changes-TOTAL_FORMS": 0}
    response = client.post(url, {**form, "changes-INITIAL_FORMS": 0})
    assert response.status_code == 302, response.content.decode()[:2000]
    memory.refresh_from_db()
    assert memory.topics == ["food", "tea"] and memory.text == "Alice likes green tea"


def test_preferences_stay_when_a_person_erases_their_data(client, alice):
    client.force_login(alice)
    client.post(reverse("theme"), {"theme": "dark"})
    client.post(reverse("accounts:data-erase"), {"confirm": "alice"})
    assert Preferences.objects.get(user=alice).theme == "dark"
