"""Operators see whether Slack is configured and when its last event came (/status/), and the
Slack identities known here (the admin)."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from slack_app import services
from slack_app.models import SlackEvent

from .conftest import signed_headers


def _status(staff) -> str:
    client = Client()
    client.force_login(staff)
    response = client.get("/status/")
    assert response.status_code == 200
    return re.search(r'<dd id="slack-state">(.*?)</dd>', response.content.decode(), re.S).group(1)


@pytest.mark.django_db
def test_the_status_page_says_slack_is_not_configured_without_its_secrets(staff, settings):
    settings.SLACK_SIGNING_SECRET = settings.SLACK_BOT_TOKEN = ""
    state = _status(staff)
    assert state.startswith("not configured") and "last event never" in state


@pytest.mark.django_db
def test_the_status_page_shows_slack_configured_and_its_last_event(staff, fake_slack):
    assert _status(staff).startswith("configured")
    payload = {"type": "event_callback", "team_id": "T0TEAM", "event_id": "Ev0STATUS",
               "event": {"type": "reaction_added", "user": "U0ALICE"}}  # fmt: skip
    body = json.dumps(payload).encode()
    client = Client()
    response = client.post(
        "/slack/events/", data=body, content_type="application/json", headers=signed_headers(body)
    )
    assert response.status_code == 200
    assert not SlackEvent.objects.exists()  # an event we do not handle is not kept
    services.event_record(event_id="Ev0STATUS", team_id="T0TEAM", kind="app_mention")
    shown = SlackEvent.objects.get().received_at.strftime("%Y-%m-%d %H:%M:%S")
    assert f">{shown}</time>" in _status(staff)


@pytest.mark.django_db
def test_the_admin_lists_slack_identities_and_who_they_run_as(staff):
    identity, _ = services.identity_get_or_create(team_id="T0TEAM", slack_user_id="U0ALICE")
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/slack_app/slackidentity/").content.decode()
    assert "U0ALICE" in page and identity.user.username in page
    assert client.get("/admin/slack_app/slackidentity/add/").status_code == 403
