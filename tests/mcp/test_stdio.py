"""`manage.py mcp --user NAME` over stdio, as Claude Desktop or Claude Code starts it: a subprocess on
this run's test database, driven by the SDK's own stdio client."""

from __future__ import annotations

import subprocess
import sys

import pytest

from memory_app.models import Memory, MemoryChange
from tests.mcp.conftest import ROOT, data, over_stdio, stdio_parameters, text

pytestmark = pytest.mark.django_db(transaction=True)  # the subprocess sees only committed rows


def test_a_local_client_adds_searches_and_deletes_the_persons_memories(tmp_path, alice, bob):
    bobs = Memory.objects.create(user=bob, text="Owns a boat", normalized_text="owns a boat")

    async def script(client):
        names = {tool.name for tool in (await client.list_tools()).tools}
        added = data(await client.call_tool("add_memory", {"text": "Writes in Rust"}))
        found = data(await client.call_tool("search_memories", {"query": "rust"}))
        others = await client.call_tool("get_memory", {"memory_id": bobs.memory_id})
        bad = await client.call_tool("search_memories", {"query": "rust", "limit": -1})
        deleted = data(await client.call_tool("delete_memory", {"memory_id": added["id"]}))
        return names, added, found, others, bad, deleted

    names, added, found, others, bad, deleted = over_stdio(tmp_path, "alice", script)

    assert "delete_all_memories" in names
    assert added["user_id"] == "alice"
    assert [m["memory"] for m in found["results"]] == ["Writes in Rust"]
    assert others.is_error and "not found" in text(others)
    assert bad.is_error
    assert deleted["status"] == "deleted"
    memory = Memory.objects.get(memory_id=added["id"])
    assert memory.user == alice and memory.deleted_at is not None
    assert list(memory.changes.order_by("id").values_list("action", "actor")) == [
        ("create", "mcp"),
        ("delete", "mcp"),
    ]
    assert not MemoryChange.objects.filter(user=bob).exists()


def test_it_refuses_to_start_for_someone_who_does_not_exist(tmp_path):
    parameters = stdio_parameters(tmp_path, "nobody")
    finished = subprocess.run(
        [sys.executable, *parameters.args],
        env={**parameters.env, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode != 0
    assert "no active user named 'nobody'" in finished.stderr
    assert finished.stdout == ""  # stdout is the protocol's alone
