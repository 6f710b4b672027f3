"""Production defaults: DEBUG off unless turned on, a required secret, `check --deploy` clean with the
production environment in docs/operations.md, a Content-Security-Policy on every page, friendly error
pages."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from agentapp import views
from agentapp.platform.database import database_url, pgvector_state

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- production.env"


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a process that sets nothing of ours but what `extra` names."""
    ours = ("DEBUG", "SECRET_KEY", "HTTPS", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("SECURE_")}
    env.update(DJANGO_SETTINGS_MODULE="agentapp.settings", AGENTAPP_VAR_DIR=str(tmp_path / "var"), **extra)
    return env


def documented_production_env() -> dict[str, str]:
    """The variables of the production.env block in docs/operations.md ("Production shape")."""
    text = (ROOT / "docs" / "operations.md").read_text()
    block = text[text.index(MARKER) :].split("```sh\n", 1)[1].split("```", 1)[0]
    found = {}
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found[key] = value
    return found


def test_without_debug_a_secret_key_is_required(tmp_path):
    result = _manage("check", env=_bare_env(tmp_path))

    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: SECRET_KEY must be set when DEBUG is off")
    assert "Traceback" not in result.stderr


def test_debug_is_off_unless_turned_on(tmp_path):
    show = "from django.conf import settings; print(settings.DEBUG)"
    off = _manage("shell", "-c", show, env=_bare_env(tmp_path, SECRET_KEY="x" * 60))
    on = _manage("shell", "-c", show, env=_bare_env(tmp_path, DEBUG="1"))

    assert off.stdout.strip().splitlines()[-1] == "False", off.stderr
    assert on.stdout.strip().splitlines()[-1] == "True", on.stderr


@pytest.mark.django_db
def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    production = documented_production_env()
    assert production["DEBUG"] == "0" and production["HTTPS"] == "1"
    production.update(SECRET_KEY=secrets.token_urlsafe(50), DATABASE_URL=database_url(connection))

    result = _manage("check", "--deploy", env=_bare_env(tmp_path, **production))

    issues = set(re.findall(r"\(([\w.]+\.[EW]\d+)\)", result.stdout + result.stderr))
    allowed = {"agentapp.W002"} if pgvector_state() != "enabled" else set()  # the server's, not ours
    assert issues <= allowed, result.stdout + result.stderr
    assert result.returncode == 0


@pytest.mark.django_db
def test_check_deploy_names_what_a_laptop_setup_leaves_unsafe(tmp_path):
    """Without HTTPS=1 and the production services: the warnings that say what to set."""
    env = _bare_env(tmp_path, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="agents.example.com")

    result = _manage("check", "--deploy", env=env)

    issues = set(re.findall(r"\(([\w.]+\.[EW]\d+)\)", result.stdout + result.stderr))
    expected = {"security.W004", "security.W008", "security.W016"}
    expected |= {"agentapp.W003", "agentapp.W004", "agentapp.W005"}
    assert expected <= issues, result.stdout + result.stderr
    # The session cookie sent over plain HTTP: W010 (the sessions app; the session middleware here is
    # a subclass served on the event loop, which Django's check does not know by name) or W012.
    assert issues & {"security.W010", "security.W012"}, result.stdout + result.stderr


def test_pages_carry_a_content_security_policy_without_inline_script(client: Client):
    policy = client.get("/login/")["Content-Security-Policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"


def test_a_missing_page_is_a_friendly_404_and_json_under_the_api(client: Client):
    page = client.get("/no-such-page/here/")
    api = client.get("/api/no-such-route")

    assert page.status_code == 404 and "Nothing here" in page.content.decode()
    assert "Traceback" not in page.content.decode()
    assert api.status_code == 404 and api.json() == {"message": "Not found", "detail": None}


def test_a_server_error_is_a_friendly_500_and_json_under_the_api():
    page = views.server_error(RequestFactory().get("/chats/x/"))
    api = views.server_error(RequestFactory().get("/api/runs"))

    assert page.status_code == 500 and "Something went wrong on our side" in page.content.decode()
    assert api.status_code == 500 and api["Content-Type"] == "application/json"


def test_an_expired_form_is_explained(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post("/chats/new/", {"message": "hi"})

    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
