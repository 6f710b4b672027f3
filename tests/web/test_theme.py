"""The theme a person chooses (light, dark, or the system's) is kept with their account."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agentapp.accounts.models import Preferences

pytestmark = pytest.mark.django_db


def test_pages_follow_the_system_until_a_theme_is_chosen(client, alice):
    client.force_login(alice)
    body = client.get("/").content.decode()
    assert '<html lang="en" data-theme="system">' in body
    assert '<option value="system" selected>System</option>' in body


def test_a_chosen_theme_is_kept_with_the_account_and_applies_to_every_page(client, alice):
    client.force_login(alice)
    response = client.post(reverse("theme"), {"theme": "dark", "next": "/memories/?q=tea"})
    assert response.status_code == 302 and response.url == "/memories/?q=tea"
    assert Preferences.objects.get(user=alice).theme == "dark"
    for url in ["/", "/memories/", "/runs/", "/settings/api-keys/", "/settings/data/"]:
        assert 'data-theme="dark"' in client.get(url).content.decode(), url
    client.post(reverse("theme"), {"theme": "system"})
    assert Preferences.objects.get(user=alice).theme == "system"


def test_one_persons_theme_is_not_anothers(client, alice, bob):
    client.force_login(alice)
    client.post(reverse("theme"), {"theme": "light"})
    client.force_login(bob)
    assert 'data-theme="system"' in client.get("/").content.decode()


def test_an_unknown_theme_is_refused_with_a_message_and_changes_nothing(client, alice):
    client.force_login(alice)
    client.post(reverse("theme"), {"theme": "dark"})
    response = client.post(reverse("theme"), {"theme": "purple"})
    assert response.status_code == 422
    assert b"theme must be one of: system, light, dark" in response.content
    assert Preferences.objects.get(user=alice).theme == "dark"


def test_after_choosing_it_goes_back_only_to_a_page_of_this_site(client, alice):
    client.force_login(alice)
    response = client.post(reverse("theme"), {"theme": "dark", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("home")


def test_anonymous_visitors_cannot_choose_a_theme(client):
    response = client.post(reverse("theme"), {"theme": "dark"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not Preferences.objects.exists()


def test_choosing_a_theme_needs_a_post(client, alice):
    client.force_login(alice)
    assert client.get(reverse("theme")).status_code == 405
