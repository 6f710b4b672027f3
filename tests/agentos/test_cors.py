"""agent-ui (http://localhost:3000 by default) and Agno's control plane call /os/ from a browser page
of another origin: the preflight is answered and the answers carry the allowed origin; no other
origin, and no other path, gets CORS headers."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

UI = "http://localhost:3000"


def test_agent_uis_preflight_is_answered_for_its_bearer_and_form(client: Client):
    response = client.options(
        "/os/agents/agent/runs",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == UI
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_an_answer_to_an_allowed_origin_names_it_even_a_refusal(client: Client):
    ok = client.get("/os/health", headers={"Origin": UI})
    refused = client.get("/os/sessions", headers={"Origin": "https://os.agno.com"})
    assert ok["Access-Control-Allow-Origin"] == UI
    assert refused.status_code == 401 and refused["Access-Control-Allow-Origin"] == "https://os.agno.com"


def test_no_cors_for_another_origin_or_outside_os(client: Client, settings):
    evil = client.options(
        "/os/sessions", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in evil
    assert "Access-Control-Allow-Origin" not in client.get("/api/sessions", headers={"Origin": UI})
    settings.AGENTOS_CORS_ORIGINS = ["*"]
    assert client.get("/os/health", headers={"Origin": "https://any.example"})[
        "Access-Control-Allow-Origin"
    ] == ("https://any.example")
