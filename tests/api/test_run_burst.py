"""More streamed runs at once than the database pool has connections: each should wait its turn for one
and complete, instead of failing after the pool's timeout (agentapp/platform/pg/pool.py)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from django.db import connection

from apikeys.services import apikey_create
from sessions_app.models import Run
from tests.fake_openai import Reply

BURST = 40


@pytest.fixture
def small_pool():
    """Two connections, given up on after 0.2 s (5 s while busy, so that runs deadlocked over
    connections fail the test rather than hang it): the server in this process takes its pool from here."""
    options = connection.settings_dict["OPTIONS"]
    if "pool" not in options:
        pytest.skip("the connection pool is off (DB_POOL=0)")
    before = options["pool"]
    options["pool"] = {**before, "min_size": 1, "max_size": 2, "timeout": 0.2, "busy_timeout": 5}
    connection.close_pool()
    yield
    options["pool"] = before
    connection.close_pool()


async def _streamed_run(client: httpx.AsyncClient, token: str, n: int) -> list[str]:
    names = []
    async with client.stream(
        "POST",
        "/api/runs",
        json={"message": f"question {n}", "session_id": f"burst-{n}", "stream": True},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                names.append(line.removeprefix("event: "))
            elif line.startswith("data: ") and names and names[-1] == "RunError":
                names.append(json.loads(line.removeprefix("data: ")).get("error", ""))
    return names


def test_a_burst_larger_than_the_pool_waits_for_connections_and_loses_no_run(
    small_pool, asgi_server, app_model, alice, settings
):
    settings.AGENT_RUNS_PER_MINUTE = 1_000  # the burst is the point, not the per-person limit
    token = apikey_create(user=alice, name="burst")[1]
    # Each reply streams for about two seconds, so its frames are checkpointed (every second) while
    # it goes, and some checkpoint is still being stored, or waiting for a connection, as it ends.
    words = " ".join(f"w{i}" for i in range(21))
    app_model.responder = lambda request: Reply(text=words, chunk_delay=0.1)

    async def burst() -> list[list[str]]:
        async with httpx.AsyncClient(base_url=asgi_server, timeout=60) as client:
            return await asyncio.gather(*(_streamed_run(client, token, n) for n in range(BURST)))

    streams = asyncio.run(burst())

    assert [names[-2:] for names in streams] == [["RunCompleted", "done"]] * BURST, streams
    assert Run.objects.filter(status=Run.Status.COMPLETED).count() == BURST
