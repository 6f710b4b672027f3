"""The error pages are the app's own, in its look (DEBUG is off unless a laptop target turns it on)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

pytestmark = pytest.mark.django_db


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
