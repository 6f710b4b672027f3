"""A person's key reaches no one else's data through any AgentOS route: another person's session,
run or memory is not found (404), exactly like a missing one, and lists leave them out."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from agno.client import AgentOSClient
from agno.db.base import SessionType

from memory_app.models import Memory
from sessions_app.models import AgentSession, Run

from .conftest import run

pytestmark = pytest.mark.django_db(transaction=True)


def _status(call) -> int:
    try:
        run(call)
    except httpx.HTTPStatusError as error:
        # A streamed request's answer cannot be read: its body went with the stream.
        with contextlib.suppress(httpx.ResponseNotRead):
            assert "detail" in error.response.json()
        return error.response.status_code
    return 200


async def _drain(stream) -> list:
    return [event async for event in stream]


def test_bobs_key_cannot_reach_alices_sessions_runs_or_memories(agentos):
    client = AgentOSClient(agentos.base_url)
    a, b = agentos.alice, agentos.bob

    async def alices():
        output = await client.run_agent("agent", "my secret plan", session_id="alice-secret", headers=a)
        memory = await client.create_memory("Alice's secret", "alice", headers=a)
        return output, memory

    output, memory = run(alices())
    sid, rid, mid = output.session_id, output.run_id, memory.memory_id
    refused = {
        "get_session": client.get_session(sid, headers=b),
        "get_session_runs": client.get_session_runs(sid, headers=b),
        "get_session_run": client.get_session_run(sid, rid, headers=b),
        "get_session_run_previews": client.aget_session_run_previews(sid, headers=b),
        "rename_session": client.rename_session(sid, "mine now", headers=b),
        "update_session": client.update_session(sid, session_state={"x": 1}, headers=b),
        "delete_session": client.delete_session(sid, headers=b),
        "delete_sessions": client.delete_sessions([sid], [SessionType.AGENT], headers=b),
        "run_in_her_session": client.run_agent("agent", "hi", session_id=sid, headers=b),
        "stream_in_her_session": _drain(client.run_agent_stream("agent", "hi", session_id=sid, headers=b)),
        "cancel_her_run": client.cancel_agent_run("agent", rid, headers=b),
        "get_memory": client.get_memory(mid, headers=b),
        "update_memory": client.update_memory(mid, "Bob's now", "bob", headers=b),
        "delete_memory": client.delete_memory(mid, headers=b),
        "delete_memories": client.delete_memories([mid], headers=b),
        "sessions_naming_her": client.get_sessions(user_id="alice", headers=b),
        "memories_naming_her": client.list_memories(user_id="alice", headers=b),
        "topics_naming_her": client.get_memory_topics(user_id="alice", headers=b),
        "stats_naming_her": client.get_user_memory_stats(user_id="alice", headers=b),
        "her_session_as_hers": client.create_session(user_id="alice", headers=b),
        "her_memory_as_hers": client.create_memory("planted", "alice", headers=b),
        "optimize_hers": client.optimize_memories("alice", headers=b),
        "run_as_her": client.run_agent("agent", "hi", user_id="alice", headers=b),
    }
    statuses = {name: _status(call) for name, call in refused.items()}
    assert statuses == dict.fromkeys(refused, 404)

    async def bobs_lists():
        return (
            await client.get_sessions(headers=b),
            await client.list_memories(headers=b),
            await client.get_memory_topics(headers=b),
            await client.get_user_memory_stats(headers=b),
        )

    sessions, memories, topics, stats = run(bobs_lists())
    assert sessions.data == [] and memories.data == [] and topics == [] and stats.data == []
    # nothing of hers changed
    assert AgentSession.objects.get(session_id=sid).title != "mine now"
    assert (
        Memory.objects.get(memory_id=mid).text == "Alice's secret"
        and Memory.objects.get(memory_id=mid).deleted_at is None
    )
    assert Run.objects.filter(session__session_id=sid).count() == 1
    assert not Memory.objects.filter(text="planted").exists()


def test_a_session_id_taken_by_another_person_is_refused_the_same_way_as_ones_own(agentos):
    client = AgentOSClient(agentos.base_url)
    run(client.create_session(session_id="taken", headers=agentos.alice))
    theirs = _status(client.create_session(session_id="taken", headers=agentos.bob))
    own = _status(client.create_session(session_id="taken", headers=agentos.alice))
    assert theirs == own == 409


def test_without_a_key_every_route_answers_401_in_agentos_shape(agentos):
    for method, path in [
        ("GET", "/sessions"),
        ("GET", "/memories"),
        ("GET", "/agents"),
        ("POST", "/agents/agent/runs"),
    ]:
        response = httpx.request(
            method, agentos.base_url + path, data={"message": "hi"} if method == "POST" else None
        )
        assert response.status_code == 401 and response.json()["detail"].startswith("Authentication required")
    assert httpx.get(agentos.base_url + "/health").json()["status"] == "ok"  # as AgentOS's: open
