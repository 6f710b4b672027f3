from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apikeys.models import ApiKey
from apikeys.services import apikey_authenticate, apikey_create, apikey_revoke
from tests.conftest import PASSWORD

from .conftest import ApiClient, assert_error

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_hashed_with_a_visible_prefix(alice):
    key, token = apikey_create(user=alice, name="laptop")
    assert token.startswith("agk_") and len(token) > 40
    assert token.startswith(key.prefix)
    assert token not in (key.key_hash, key.prefix)
    assert not ApiKey.objects.filter(key_hash__contains=token[12:]).exists()
    assert apikey_authenticate(token=token) == key


def test_a_wrong_revoked_or_inactive_users_key_is_refused(alice, alice_api):
    key, token = apikey_create(user=alice, name="laptop")
    assert apikey_authenticate(token=token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert apikey_authenticate(token="") is None
    assert_error(ApiClient(token[:-2]).get("/api/sessions"), 401)
    apikey_revoke(apikey=key)
    assert_error(ApiClient(token).get("/api/sessions"), 401)
    _, other_token = apikey_create(user=alice, name="second")
    alice.is_active = False
    alice.save()
    assert_error(ApiClient(other_token).get("/api/sessions"), 401)


def test_last_used_is_written_at_most_once_a_minute(alice):
    key, token = apikey_create(user=alice, name="laptop")
    ApiClient(token).get("/api/sessions")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    ApiClient(token).get("/api/sessions")
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    ApiClient(token).get("/api/sessions")
    key.refresh_from_db()
    assert key.last_used_at > first - timedelta(seconds=1)
    assert key.last_used_at <= timezone.now()


def test_the_browser_session_works_for_reads_and_needs_csrf_for_writes(alice):
    client = Client(enforce_csrf_checks=True)
    client.login(username="alice", password=PASSWORD)
    assert client.get("/api/sessions").status_code == 200
    refused = client.post("/api/memories", {"text": "x"}, content_type="application/json")
    assert_error(refused, 403)
    client.get("/settings/api-keys/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/memories",
        {"text": "Likes tea"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 201, accepted.content


def test_the_api_documents_itself(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/runs" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"ApiKeyAuth", "SessionAuth"}
    assert client.get("/api/docs").status_code == 200


def test_a_request_with_an_invalid_host_header_gets_the_error_shape_not_an_html_page(alice_api):
    """Found by the fuzzer: Django's own 400 page is HTML, which the API documents as JSON."""
    response = alice_api.client.get("/api/sessions", headers={**alice_api.headers, "Host": "bad}host"})

    body = assert_error(response, 400)
    assert response["Content-Type"] == "application/json"
    assert "host" in body["message"].lower()


def test_a_page_with_an_invalid_host_header_still_gets_a_plain_400(client):
    response = client.get("/login/", headers={"Host": "bad}host"})

    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")
