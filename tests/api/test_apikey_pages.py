from __future__ import annotations

import pytest
from django.urls import reverse

from apikeys.models import ApiKey
from apikeys.services import apikey_authenticate, apikey_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _signed_in(client, username: str):
    client.login(username=username, password=PASSWORD)
    return client


def test_the_settings_page_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/settings/api-keys/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.post("/settings/api-keys/", {"name": "x"}).status_code == 302
    assert not ApiKey.objects.exists()


def test_creating_a_key_shows_its_secret_once(client, alice):
    _signed_in(client, "alice")
    response = client.post("/settings/api-keys/", {"name": "billing backend"}, follow=True)
    assert response.redirect_chain == [("/settings/api-keys/", 303)]
    token = response.context["new_token"]
    assert token in response.content.decode()
    assert apikey_authenticate(token=token).user == alice
    again = client.get("/settings/api-keys/").content.decode()
    assert "billing backend" in again
    assert token not in again
    assert ApiKey.objects.get().prefix in again


def test_a_key_needs_a_name(client, alice):
    _signed_in(client, "alice")
    response = client.post("/settings/api-keys/", {"name": "  "})
    assert response.status_code == 422
    assert "needs a name" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_page_lists_only_your_own_keys(client, alice, bob):
    apikey_create(user=bob, name="bob's secret project")
    apikey_create(user=alice, name="alice laptop")
    page = _signed_in(client, "alice").get("/settings/api-keys/").content.decode()
    assert "alice laptop" in page
    assert "bob's secret project" not in page


def test_you_revoke_your_own_keys_and_not_others(client, alice, bob):
    mine, token = apikey_create(user=alice, name="mine")
    theirs, _ = apikey_create(user=bob, name="theirs")
    _signed_in(client, "alice")
    assert client.post(f"/settings/api-keys/{theirs.pk}/revoke/").status_code == 404
    assert client.get(f"/settings/api-keys/{mine.pk}/revoke/").status_code == 405
    response = client.post(f"/settings/api-keys/{mine.pk}/revoke/")
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None
    assert apikey_authenticate(token=token) is None


def test_the_admin_creates_a_key_and_shows_the_secret_once(client, staff, bob):
    _signed_in(client, "ops")
    response = client.post("/admin/apikeys/apikey/add/", {"user": bob.pk, "name": "bob's backend"})
    assert response.status_code == 200
    token = response.context["token"]
    assert f'<pre id="new-key-token" class="readonly">{token}</pre>' in response.content.decode()
    key = ApiKey.objects.get()
    assert apikey_authenticate(token=token) == key
    assert key.user == bob
    page = client.get(f"/admin/apikeys/apikey/{key.pk}/change/").content.decode()
    assert token not in page
    assert key.prefix in page


def test_the_admin_revokes_keys_in_bulk(client, staff, alice):
    key, token = apikey_create(user=alice, name="k")
    _signed_in(client, "ops")
    client.post("/admin/apikeys/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    assert apikey_authenticate(token=token) is None


def test_the_nav_links_to_the_api_keys_page(client, alice):
    page = _signed_in(client, "alice").get("/settings/api-keys/").content.decode()
    assert 'href="/settings/api-keys/"' in page


# Post/Redirect/Get: the key shown once, and a reload never makes another
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
