"""A process answers a key it checked a moment ago from memory (apikeys/key_cache.py), and forgets it
as soon as anything takes the key's rights away, in whatever process or transaction that happens:
a revoked key, a deactivated person, a permission taken back stop working within a second."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import key_cache
from apikeys.services import apikey_create, apikey_revoke
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db(transaction=True)  # notices are sent on commit


@pytest.fixture
def cache_on(settings) -> Iterator[None]:
    settings.AGENT_KEY_CACHE_SECONDS = 60
    key_cache.generation()  # starts the listener
    _within(5, lambda: key_cache._listening)
    yield
    key_cache.stop_listening()


def _within(seconds: float, condition: Callable[[], bool]) -> float:
    """How long until `condition` held; fails past `seconds`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - started


def _tables(queries: CaptureQueriesContext) -> str:
    return " ".join(q["sql"] for q in queries.captured_queries)


def test_a_key_checked_a_moment_ago_is_not_looked_up_again(cache_on, alice):
    api = ApiClient(apikey_create(user=alice, name="backend")[1])
    assert api.get("/api/sessions").status_code == 200

    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/sessions").status_code == 200

    assert "apikeys_apikey" not in _tables(queries)


def test_without_the_cache_every_request_looks_its_key_up(settings, alice):
    settings.AGENT_KEY_CACHE_SECONDS = 0
    api = ApiClient(apikey_create(user=alice, name="backend")[1])
    api.get("/api/sessions")

    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/sessions").status_code == 200

    assert "apikeys_apikey" in _tables(queries)


def test_a_revoked_key_stops_working_within_a_second(cache_on, alice):
    key, token = apikey_create(user=alice, name="backend")
    api = ApiClient(token)
    assert api.get("/api/sessions").status_code == 200  # now cached

    apikey_revoke(apikey=key)

    assert _within(1.0, lambda: api.get("/api/sessions").status_code == 401) < 1.0


def test_a_deactivated_persons_key_stops_working_within_a_second(cache_on, alice):
    api = ApiClient(apikey_create(user=alice, name="backend")[1])
    assert api.get("/api/sessions").status_code == 200

    alice.is_active = False
    alice.save()

    _within(1.0, lambda: api.get("/api/sessions").status_code == 401)


def test_a_permission_taken_back_stops_acting_for_others_within_a_second(cache_on, django_user_model, alice):
    backend = django_user_model.objects.create_user("backend")
    permission = Permission.objects.get(codename="act_for_others")
    backend.user_permissions.add(permission)
    api = ApiClient(apikey_create(user=backend, name="backend")[1])
    assert api.get("/api/sessions", user_id="alice").status_code == 200  # cached, with the permission

    backend.user_permissions.remove(permission)

    # Refused as for anyone who may not act for others: as if alice did not exist.
    _within(1.0, lambda: api.get("/api/sessions", user_id="alice").status_code == 404)


def test_what_one_request_sets_on_its_key_does_not_reach_the_next(cache_on, alice):
    token = apikey_create(user=alice, name="backend")[1]
    api = ApiClient(token)
    api.get("/api/sessions")
    (digest,) = key_cache._entries
    first = key_cache.cached(digest)
    assert first is not None
    first.user.first_name = "Mallory"

    second = key_cache.cached(digest)

    assert second is not None and second.user.first_name == ""
