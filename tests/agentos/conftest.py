from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from apikeys.services import apikey_create
from tests.fake_openai import Reply


@dataclass
class Os:
    """The app under uvicorn, its AgentOS base URL, and the keys' headers (alice, bob, a service)."""

    base_url: str
    alice: dict[str, str]
    bob: dict[str, str]
    service: dict[str, str]


@pytest.fixture
def agentos(asgi_server, app_model, no_summaries, settings, alice, bob, staff) -> Os:
    settings.AGENT_UPDATE_MEMORY_ON_RUN = False  # keep each test's model requests to its own
    app_model.responder = lambda request: Reply(text="Noted, my friend.")

    def headers(user, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {apikey_create(user=user, name=name)[1]}"}

    return Os(
        base_url=f"{asgi_server}/os",
        alice=headers(alice, "alice's agno"),
        bob=headers(bob, "bob's agno"),
        service=headers(staff, "product backend"),
    )


def run(coroutine):
    """Drive one test's client calls on a loop of their own; Agno's shared httpx client goes with it."""
    from agno.utils.http import aclose_default_clients

    async def main():
        try:
            return await coroutine
        finally:
            await aclose_default_clients()

    return asyncio.run(main())
