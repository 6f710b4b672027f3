"""Every state-changing request from a browser session needs the CSRF token.

The routes come from the authorization matrix, whose own test requires a rule for every route
of the URL conf and every API operation, so a new write route is checked here too.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from .conftest import World
from .test_authorization_matrix import API_RULES, BROWSER_RULES, OS_NOT_SERVED

WRITES = ("POST", "PATCH", "DELETE")
# Authenticated by a signature of the whole body, never by a browser session: no CSRF token to
# send, and an unsigned request is refused (tests/slack/test_events.py).
SIGNED_WRITES = {("slack/events/", "POST")}
# AgentOS's paths this app does not serve: a JSON 404 for any method, and nothing written.
NOT_SERVED = {("os/", "POST"), (OS_NOT_SERVED, "POST")}
BROWSER_WRITES = sorted(
    key for key in BROWSER_RULES if key[1] in WRITES and key not in SIGNED_WRITES | NOT_SERVED
)
API_WRITES = sorted(key for key in API_RULES if key[1] in WRITES)
# The AgentOS routes take a bearer key only: a browser session is no one there, so nothing to forge.
SESSION_API_WRITES = [key for key in API_WRITES if not key[0].startswith("/os/")]
OS_WRITES = [key for key in API_WRITES if key[0].startswith("/os/")]

pytestmark = pytest.mark.django_db


def _signed_in(world: World, key: tuple[str, str] | None = None) -> Client:
    """Alice; staff for a route only staff may use (which refuses Alice with a 403 of its own)."""
    client = Client(enforce_csrf_checks=True)
    staff_only = key is not None and key in BROWSER_RULES and BROWSER_RULES[key].expect["alice"] == 403
    client.force_login(world.staff if staff_only else world.alice)
    return client


@pytest.mark.parametrize("key", BROWSER_WRITES, ids=lambda key: f"{key[1]} {key[0]}")
def test_a_browser_write_without_the_csrf_token_is_refused(key, world, replying):
    rule = BROWSER_RULES[key]
    response = _signed_in(world, key).post(rule.url(world), data=rule.data(world))
    assert response.status_code == 403, (key, response.status_code)


@pytest.mark.parametrize("key", BROWSER_WRITES, ids=lambda key: f"{key[1]} {key[0]}")
def test_the_same_browser_write_with_the_token_gets_past_the_check(key, world, replying):
    client = _signed_in(world, key)
    client.get("/login/")  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    rule = BROWSER_RULES[key]
    response = client.post(rule.url(world), data=rule.data(world), headers={"X-CSRFToken": token})
    assert response.status_code != 403, (key, response.content[:200])


@pytest.mark.parametrize("key", SESSION_API_WRITES, ids=lambda key: f"{key[1]} {key[0]}")
def test_an_api_write_with_a_session_and_no_csrf_token_is_refused(key, world, replying):
    rule = API_RULES[key]
    body = json.dumps(rule.data(world))
    response = _signed_in(world).generic(key[1], rule.url(world), data=body, content_type="application/json")
    assert response.status_code == 403, (key, response.status_code)
    assert response.json()["message"]


@pytest.mark.parametrize("key", API_WRITES, ids=lambda key: f"{key[1]} {key[0]}")
def test_an_api_write_with_a_bearer_key_needs_no_csrf_token(key, world, replying):
    rule = API_RULES[key]
    body = json.dumps(rule.data(world))
    headers = {"Authorization": f"Bearer {world.tokens['alice_key']}"}
    client = Client(enforce_csrf_checks=True)
    if rule.form:
        response = client.post(rule.url(world), data=rule.data(world), headers=headers)
    else:
        response = client.generic(
            key[1], rule.url(world), data=body, content_type="application/json", headers=headers
        )
    assert response.status_code == rule.expect["alice_key"], (key, response.content[:200])


@pytest.mark.parametrize("key", OS_WRITES, ids=lambda key: f"{key[1]} {key[0]}")
def test_an_agentos_write_with_only_a_session_is_unauthenticated(key, world, replying):
    rule = API_RULES[key]
    body = json.dumps(rule.data(world))
    response = _signed_in(world).generic(key[1], rule.url(world), data=body, content_type="application/json")
    assert response.status_code == 401, (key, response.status_code)
    assert response.json()["detail"]
