"""The MCP server driven by the official SDK's own client: over Streamable HTTP against the app
under uvicorn (tests.live), and over stdio against `manage.py mcp --user NAME` in a subprocess that
reaches this run's test database."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from agentapp.platform.database import database_url
from apikeys.services import apikey_create

ROOT = Path(__file__).resolve().parents[2]
Script = Callable[[Client], Awaitable[Any]]


@pytest.fixture
def alice_key(alice) -> str:
    return apikey_create(user=alice, name="alice's laptop")[1]


@pytest.fixture
def bob_key(bob) -> str:
    return apikey_create(user=bob, name="bob's laptop")[1]


@pytest.fixture
def service_key(django_user_model) -> str:
    """A product backend's key: its account may act for others (sessions_app.act_for_others)."""
    backend = django_user_model.objects.create_user("backend")
    backend.user_permissions.add(Permission.objects.get(codename="act_for_others"))
    return apikey_create(user=backend, name="product backend")[1]


def over_http(base_url: str, token: str, script: Script) -> Any:
    """Run `script` with an MCP client connected to base_url/mcp/ with `token` as its bearer key."""

    async def main() -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(f"{base_url}/mcp/", http_client=http)) as client,
        ):
            return await script(client)

    return anyio.run(main)


def stdio_parameters(tmp_path: Path, username: str) -> StdioServerParameters:
    """`manage.py mcp --user NAME` as a local client starts it, on this run's test database."""
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(connection),  # the test database, so the server sees its rows
        "DB_POOL": "0",
        "AGENTAPP_VAR_DIR": str(tmp_path),
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "LOG_LEVEL": "WARNING",
    }
    return StdioServerParameters(
        command=sys.executable, args=["manage.py", "mcp", "--user", username], env=env, cwd=ROOT
    )


def over_stdio(tmp_path: Path, username: str, script: Script) -> Any:
    async def main() -> Any:
        async with Client(stdio_parameters(tmp_path, username), read_timeout_seconds=60) as client:
            return await script(client)

    return anyio.run(main)


def data(result: CallToolResult) -> dict[str, Any]:
    """A successful tool call's answer (the tools answer JSON objects)."""
    assert not result.is_error, text(result)
    if isinstance(result.structured_content, dict):
        return result.structured_content
    return json.loads(text(result))


def text(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)
