"""Who may use /mcp/ and for whom. The route is mounted in the ASGI app beside Django (agentapp/asgi.py),
so tests/security/test_authorization_matrix.py, which walks Django's URL patterns, never sees it:
its rules are held here, for the owner, another person, a service key and anonymous."""

from __future__ import annotations

import httpx
import pytest

from apikeys.models import ApiKey
from apikeys.services import apikey_revoke
from memory_app.models import Memory
from tests.mcp.conftest import data, over_http, text

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _memory(user, text_: str) -> Memory:
    return Memory.objects.create(user=user, text=text_, normalized_text=text_.lower())


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer agk_not-a-key", "Basic YWxpY2U6cHc=", "agk_without_scheme"],
)
def test_it_refuses_a_request_without_a_valid_key(asgi_server, alice, authorization):
    headers = dict(HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    response = httpx.post(f"{asgi_server}/mcp/", json=INITIALIZE, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "API key" in response.json()["message"]


def test_it_refuses_a_revoked_key(asgi_server, alice, alice_key):
    apikey_revoke(apikey=ApiKey.objects.get(user=alice))
    headers = {**HEADERS, "Authorization": f"Bearer {alice_key}"}
    response = httpx.post(f"{asgi_server}/mcp/", json=INITIALIZE, headers=headers)
    assert response.status_code == 401


def test_it_answers_a_valid_key_and_nothing_below_mcp(asgi_server, alice_key):
    headers = {**HEADERS, "Authorization": f"Bearer {alice_key}"}
    assert httpx.post(f"{asgi_server}/mcp/", json=INITIALIZE, headers=headers).status_code == 200
    assert httpx.post(f"{asgi_server}/mcp", json=INITIALIZE, headers=headers).status_code == 200
    assert httpx.post(f"{asgi_server}/mcp/other", json=INITIALIZE, headers=headers).status_code == 404


def test_it_keeps_no_session_so_any_web_worker_answers_any_request(asgi_server, alice_key):
    headers = {**HEADERS, "Authorization": f"Bearer {alice_key}"}
    opened = httpx.post(f"{asgi_server}/mcp/", json=INITIALIZE, headers=headers)
    assert opened.status_code == 200
    assert "mcp-session-id" not in opened.headers
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    listed = httpx.post(f"{asgi_server}/mcp/", json=listing, headers=headers)
    assert listed.status_code == 200
    assert "delete_all_memories" in listed.text


def test_a_persons_key_never_reaches_another_persons_memory(asgi_server, alice, bob, alice_key):
    bobs = _memory(bob, "Allergic to peanuts")

    async def script(client):
        by_id = [
            await client.call_tool("get_memory", {"memory_id": bobs.memory_id}),
            await client.call_tool("update_memory", {"memory_id": bobs.memory_id, "text": "Likes peanuts"}),
            await client.call_tool("delete_memory", {"memory_id": bobs.memory_id}),
        ]
        by_name = [
            await client.call_tool("add_memory", {"text": "Likes peanuts", "user_id": "bob"}),
            await client.call_tool("search_memories", {"query": "peanuts", "user_id": "bob"}),
            await client.call_tool("get_memories", {"user_id": "bob"}),
            await client.call_tool("delete_all_memories", {"user_id": "bob"}),
        ]
        own = data(await client.call_tool("search_memories", {"query": "peanuts"}))
        return by_id, by_name, own

    by_id, by_name, own = over_http(asgi_server, alice_key, script)

    for result in by_id:
        assert result.is_error
        assert text(result).endswith(f"memory {bobs.memory_id!r} not found")
    for result in by_name:
        assert result.is_error
        assert "user not found" in text(result)
    assert own["results"] == []
    bobs.refresh_from_db()
    assert (bobs.text, bobs.deleted_at) == ("Allergic to peanuts", None)
    assert list(Memory.objects.filter(user=bob)) == [bobs]


def test_a_service_key_acts_for_the_person_it_names(asgi_server, alice, service_key):
    _memory(alice, "Prefers trains to planes")

    async def script(client):
        added = data(
            await client.call_tool("add_memory", {"text": "Visits Porto in May", "user_id": "alice"})
        )
        found = data(await client.call_tool("search_memories", {"query": "trains", "user_id": "alice"}))
        listed = data(await client.call_tool("get_memories", {"user_id": "alice"}))
        one = data(await client.call_tool("get_memory", {"memory_id": added["id"]}))
        newcomer = data(await client.call_tool("add_memory", {"text": "Is new here", "user_id": "carol"}))
        return added, found, listed, one, newcomer

    added, found, listed, one, newcomer = over_http(asgi_server, service_key, script)

    assert added["user_id"] == one["user_id"] == "alice"
    assert [m["memory"] for m in found["results"]] == ["Prefers trains to planes"]
    assert {m["memory"] for m in listed["results"]} == {"Prefers trains to planes", "Visits Porto in May"}
    assert newcomer["user_id"] == "carol"  # a product backend's new user, as the API's create does
    memory = Memory.objects.get(memory_id=added["id"])
    change = memory.changes.get()
    assert (memory.user, change.actor, change.actor_user.username) == (alice, "mcp", "backend")


def test_a_service_key_never_reaches_a_superuser(asgi_server, staff, service_key):
    theirs = _memory(staff, "Holds the root password")

    async def script(client):
        return [
            await client.call_tool("get_memories", {"user_id": staff.username}),
            await client.call_tool("get_memory", {"memory_id": theirs.memory_id}),
        ]

    assert all(result.is_error for result in over_http(asgi_server, service_key, script))


def test_a_body_past_the_upload_limit_is_refused(asgi_server, alice, alice_key, settings):
    headers = {**HEADERS, "Authorization": f"Bearer {alice_key}"}
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    oversized = {**INITIALIZE, "params": {**INITIALIZE["params"], "padding": padding}}
    assert httpx.post(f"{asgi_server}/mcp/", json=oversized, headers=headers).status_code == 413
    anonymous = httpx.post(f"{asgi_server}/mcp/", json=oversized, headers=HEADERS)
    assert anonymous.status_code == 401  # refused on its headers, before its body is read
