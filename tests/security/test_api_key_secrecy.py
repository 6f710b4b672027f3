"""An API key's plaintext is shown once, on the response that creates it, and nowhere else:
not in logs (every logger at DEBUG, SQL included), not in any other response, not sent to the model."""

from __future__ import annotations

import json
import logging
import re

import pytest
from asgiref.sync import async_to_sync
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from tests.conftest import PASSWORD
from tests.fake_openai import Reply

pytestmark = pytest.mark.django_db

LOGGERS = ("", "django", "django.request", "django.server", "django.db.backends", "httpx", "openai", "ninja")
TOKEN = re.compile(r"agk_[A-Za-z0-9_\-]{20,}")


def _body(response) -> bytes:
    if not response.streaming:
        return response.content
    content = response.streaming_content
    if hasattr(content, "__aiter__"):

        async def collect() -> bytes:
            return b"".join([chunk async for chunk in content])

        return async_to_sync(collect)()
    return b"".join(content)


def _every_header_and_body(response) -> str:
    body = _body(response)
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    return headers + "\n" + body.decode("utf-8", "replace")


@pytest.fixture
def logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    connection.force_debug_cursor = True  # SQL and its parameters go to django.db.backends
    yield caplog
    connection.force_debug_cursor = False


def test_a_key_appears_only_on_its_creation_page(alice, app_model, logs):
    app_model.responder = lambda request: Reply(text="Noted.")
    browser = Client()
    browser.login(username="alice", password=PASSWORD)
    created = browser.post("/settings/api-keys/", {"name": "backend"}, follow=True)
    assert created.redirect_chain == [("/settings/api-keys/", 303)]
    tokens = TOKEN.findall(created.content.decode())
    assert len(set(tokens)) == 1
    token = tokens[0]

    bearer = {"Authorization": f"Bearer {token}"}
    api = Client()
    responses = [
        browser.get("/settings/api-keys/"),
        api.get("/api/sessions", headers=bearer),
        api.post("/api/runs", json.dumps({"message": "hi"}), content_type="application/json", headers=bearer),
        api.post(
            "/api/runs",
            json.dumps({"message": "hi", "stream": True}),
            content_type="application/json",
            headers=bearer,
        ),
        api.get("/api/runs/run_nope", headers=bearer),  # a 404
        api.post("/api/runs", "{not json", content_type="application/json", headers=bearer),  # a 400
        api.get("/api/sessions", headers={"Authorization": f"Bearer {token}x"}),  # a 401 for a near miss
        api.get("/api/memories?user_id=bob", headers=bearer),  # another person: 404
    ]
    app_model.responder = lambda request: Reply(status=500, error="the model broke")
    responses.append(
        api.post(
            "/api/runs", json.dumps({"message": "fail"}), content_type="application/json", headers=bearer
        )
    )
    statuses = [r.status_code for r in responses]
    assert statuses[:5] == [200, 200, 200, 200, 404] and statuses[5:8] == [400, 401, 404]
    assert statuses[8] in (200, 503)

    for response in responses:
        text = _every_header_and_body(response)
        assert token not in text, response
        assert not TOKEN.search(text), response
    logged = "\n".join(record.getMessage() for record in logs.records)
    logged += "\n".join(logs.text.splitlines())
    # the check is not vacuous: SQL and the refused requests were logged
    assert any("SELECT" in record.getMessage() for record in logs.records)
    assert "Not Found: /api/runs/run_nope" in logged and "Unauthorized: /api/sessions" in logged
    assert token not in logged
    for request in app_model.requests:
        assert token not in json.dumps(request.body) and token not in json.dumps(request.headers)


def test_a_keys_list_shows_prefixes_only(alice):
    browser = Client()
    browser.login(username="alice", password=PASSWORD)
    created = browser.post("/settings/api-keys/", {"name": "one"}, follow=True)
    token = TOKEN.findall(created.content.decode())[0]
    listing = browser.get("/settings/api-keys/").content.decode()
    assert token[:12] in listing
    assert token not in listing


def test_a_key_made_in_the_admin_is_shown_on_its_response_and_never_in_a_cookie(staff):
    """Was: the admin put the plaintext in a message, which travels in the `messages` cookie."""
    client = Client()
    client.force_login(staff)

    response = client.post("/admin/apikeys/apikey/add/", {"user": staff.pk, "name": "billing"})

    assert response.status_code == 200
    shown = TOKEN.findall(response.content.decode())
    assert len(shown) == 1
    assert "no-store" in response["Cache-Control"]
    cookies = "\n".join(f"{name}={morsel.value}" for name, morsel in response.cookies.items())
    assert shown[0] not in cookies
    followed = client.get("/admin/apikeys/apikey/")
    assert not TOKEN.search(followed.content.decode())  # and not on any later page
    assert not any(shown[0] in str(s.get_decoded()) for s in Session.objects.all())
