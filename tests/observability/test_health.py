"""The orchestrators' endpoints: /healthz (the process is up) and /readyz (it can serve)."""

from __future__ import annotations

import pytest

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
    assert client.get("/readyz").status_code == 200
