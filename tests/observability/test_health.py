"""The orchestrators' endpoints: /healthz (the process is up) and /readyz (it can serve)."""

from __future__ import annotations

import time

import httpx
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:9/0"


def test_healthz_answers_without_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}


def test_readyz_is_ready_when_the_database_answers(client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"  # the embedded broker: a folder, nothing to reach
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok"}


def test_readyz_is_not_ready_while_a_configured_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = NOTHING_LISTENS
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["message"] == "Not ready: the broker is unreachable"
    assert body["detail"]["database"] == "ok" and body["detail"]["broker"].startswith("unreachable")


@pytest.mark.redis
def test_readyz_checks_a_configured_broker_that_answers(client, settings, broker):
    settings.CELERY_BROKER_URL = broker.url
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["broker"] == "ok"


def test_health_endpoints_answer_over_plain_http_when_https_redirects_everything_else(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.CELERY_BROKER_URL = "filesystem://"
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/login/").status_code == 301


def test_readyz_is_not_ready_while_the_database_is_away_and_healthz_stays_up(outage, client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    outage.stop()
    try:
        assert client.get("/healthz").status_code == 200  # the process is up: no restart wanted
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["message"] == "Not ready: the database is unreachable"
    finally:
        outage.start()
        connection.close()  # this thread's connection died with the server
    assert client.get("/readyz").status_code == 200


def test_readyz_answers_within_a_second_or_so_while_the_database_is_away(outage, asgi_server, settings):
    # Under uvicorn every request takes its connection from the pool, which waits up to its 10 s
    # timeout for one while the database is away; readiness must not wait on it.
    settings.CELERY_BROKER_URL = "filesystem://"
    assert httpx.get(f"{asgi_server}/readyz").status_code == 200
    outage.stop()
    try:
        started = time.monotonic()
        response = httpx.get(f"{asgi_server}/readyz", timeout=30)
        waited = time.monotonic() - started
    finally:
        outage.start()
        connection.close()  # this thread's connection died with the server
    assert response.status_code == 503
    assert response.json()["message"] == "Not ready: the database is unreachable"
    assert waited < 4, f"readyz took {waited:.1f}s"
