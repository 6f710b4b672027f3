"""mem0's memory tools over Streamable HTTP at /mcp/, with a person's own API key."""

from __future__ import annotations

import pytest

from memory_app.models import Memory, MemoryChange, MemoryEmbedding, MemoryProposal
from sessions_app.services import person_settings_save
from tests.mcp.conftest import data, over_http, text

TOOLS = {
    "add_memory",
    "search_memories",
    "get_memories",
    "get_memory",
    "update_memory",
    "delete_memory",
    "delete_all_memories",
}


def test_it_lists_mem0s_tools_with_their_arguments(asgi_server, alice_key):
    async def script(client):
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in over_http(asgi_server, alice_key, script)}
    assert set(tools) == TOOLS
    assert set(tools["add_memory"].input_schema["properties"]) == {"text", "user_id"}
    assert tools["add_memory"].input_schema["required"] == ["text"]
    assert set(tools["search_memories"].input_schema["properties"]) == {"query", "user_id", "limit"}
    assert set(tools["update_memory"].input_schema["properties"]) == {"memory_id", "text"}


def test_a_person_adds_searches_gets_updates_and_deletes_their_memories(asgi_server, alice, alice_key):
    async def script(client):
        added = data(await client.call_tool("add_memory", {"text": "Prefers green tea in the morning"}))
        await client.call_tool("add_memory", {"text": "Lives in Lisbon"})
        found = data(await client.call_tool("search_memories", {"query": "tea", "limit": 5}))
        one = data(await client.call_tool("get_memory", {"memory_id": added["id"]}))
        updated = data(
            await client.call_tool("update_memory", {"memory_id": added["id"], "text": "Prefers oolong tea"})
        )
        listed = data(await client.call_tool("get_memories", {}))
        deleted = data(await client.call_tool("delete_memory", {"memory_id": added["id"]}))
        gone = await client.call_tool("get_memory", {"memory_id": added["id"]})
        return added, found, one, updated, listed, deleted, gone

    added, found, one, updated, listed, deleted, gone = over_http(asgi_server, alice_key, script)

    assert added["status"] == "added"
    assert added["memory"] == "Prefers green tea in the morning"
    assert added["user_id"] == "alice"
    assert [m["id"] for m in found["results"]] == [added["id"]]
    assert one["memory"] == "Prefers green tea in the morning"
    assert updated["status"] == "updated"
    assert updated["memory"] == "Prefers oolong tea"
    assert {m["memory"] for m in listed["results"]} == {"Prefers oolong tea", "Lives in Lisbon"}
    assert deleted == {"status": "deleted", "id": added["id"]}
    assert gone.is_error
    assert "not found" in text(gone)
    memory = Memory.objects.get(memory_id=added["id"])
    assert memory.user == alice
    assert memory.deleted_at is not None  # soft: its history can restore it


def test_every_write_is_audited_with_the_actor_mcp(asgi_server, alice, alice_key):
    async def script(client):
        added = data(await client.call_tool("add_memory", {"text": "Has a cat called Miso"}))
        await client.call_tool("update_memory", {"memory_id": added["id"], "text": "Has two cats"})
        await client.call_tool("delete_memory", {"memory_id": added["id"]})
        return added["id"]

    memory_id = over_http(asgi_server, alice_key, script)

    changes = MemoryChange.objects.filter(memory__memory_id=memory_id).order_by("created_at", "id")
    assert [(c.action, c.actor, c.actor_user_id) for c in changes] == [
        ("create", "mcp", alice.pk),
        ("update", "mcp", alice.pk),
        ("delete", "mcp", alice.pk),
    ]


def test_the_same_fact_twice_is_stored_once(asgi_server, alice, alice_key):
    async def script(client):
        first = data(await client.call_tool("add_memory", {"text": "Speaks Portuguese"}))
        second = data(await client.call_tool("add_memory", {"text": "  speaks portuguese "}))
        return first, second

    first, second = over_http(asgi_server, alice_key, script)

    assert second["status"] == "already_stored"
    assert second["id"] == first["id"]
    assert Memory.objects.filter(user=alice).count() == 1


def test_a_person_who_reviews_new_memories_gets_proposals_not_memories(asgi_server, alice, alice_key):
    person_settings_save(user=alice, changes={"review_memories": True})
    kept = Memory.objects.create(user=alice, text="Works at a bakery", normalized_text="works at a bakery")

    async def script(client):
        added = data(await client.call_tool("add_memory", {"text": "Runs on Sundays"}))
        changed = data(
            await client.call_tool("update_memory", {"memory_id": kept.memory_id, "text": "Works at a cafe"})
        )
        return added, changed

    added, changed = over_http(asgi_server, alice_key, script)

    assert added["status"] == changed["status"] == "proposed"
    assert not Memory.objects.filter(user=alice, text="Runs on Sundays").exists()
    kept.refresh_from_db()
    assert kept.text == "Works at a bakery"
    proposals = MemoryProposal.objects.filter(user=alice).order_by("id")
    assert [(p.text, p.change, p.actor, p.state) for p in proposals] == [
        ("Runs on Sundays", "create", "mcp", "proposed"),
        ("Works at a cafe", "update", "mcp", "proposed"),
    ]


def test_delete_all_memories_deletes_only_the_persons_own(asgi_server, alice, bob, alice_key):
    for fact in ("Likes jazz", "Plays chess"):
        Memory.objects.create(user=alice, text=fact, normalized_text=fact.lower())
    Memory.objects.create(user=bob, text="Likes jazz", normalized_text="likes jazz")

    async def script(client):
        return data(await client.call_tool("delete_all_memories", {}))

    answer = over_http(asgi_server, alice_key, script)

    assert answer["deleted"] == 2
    assert not Memory.objects.filter(user=alice, deleted_at__isnull=True).exists()
    assert Memory.objects.filter(user=bob, deleted_at__isnull=True).count() == 1
    assert set(MemoryChange.objects.filter(user=alice).values_list("action", "actor")) == {("delete", "mcp")}


def test_bad_arguments_and_unknown_tools_are_tool_errors(asgi_server, alice, alice_key):
    async def script(client):
        return [
            await client.call_tool("add_memory", {}),
            await client.call_tool("add_memory", {"text": "   "}),
            await client.call_tool("add_memory", {"text": "x" * 5000}),
            await client.call_tool("search_memories", {"query": "  "}),
            await client.call_tool("search_memories", {"query": "tea", "limit": 0}),
            await client.call_tool("search_memories", {"query": "tea", "limit": "many"}),
            await client.call_tool("get_memory", {"memory_id": "mem_does_not_exist"}),
            await client.call_tool("update_memory", {"memory_id": "mem_nope", "text": "x"}),
            await client.call_tool("forget_everything", {}),
        ]

    results = over_http(asgi_server, alice_key, script)

    assert all(result.is_error for result in results), [text(r) for r in results]
    assert all(text(result) for result in results)
    assert "Unknown tool" in text(results[-1])
    assert not Memory.objects.filter(user=alice).exists()


@pytest.fixture
def embedder_behind_workers(fake_openai, settings):
    """Production's shape: an embedder (the loopback server's /v1/embeddings) and follow-ups sent to
    Celery workers (none runs here: what is sent waits in this run's Redis db)."""
    from agentapp import app_agent
    from agentapp.db import forget_meaning_search_state

    settings.AGENT_EMBEDDER = "openai:fake-embed"
    settings.OPENAI_BASE_URL = fake_openai.base_url
    settings.OPENAI_API_KEY = "sk-test-secret-123"
    settings.AGENT_BACKGROUND_TASKS = "celery"
    app_agent.configured_embedder.cache_clear()
    forget_meaning_search_state()
    yield fake_openai
    app_agent.configured_embedder.cache_clear()
    forget_meaning_search_state()


def test_add_memory_answers_without_waiting_for_a_model(
    asgi_server, alice, alice_key, embedder_behind_workers
):
    embedder_behind_workers.embedding_fault(delay=30)  # were it asked, the call would hang

    async def script(client):
        return data(await client.call_tool("add_memory", {"text": "Cycles to work"}))

    added = over_http(asgi_server, alice_key, script)

    assert added["status"] == "added"
    assert embedder_behind_workers.embedding_requests == []  # its embedding is the workers' job
    assert not MemoryEmbedding.objects.filter(memory__memory_id=added["id"]).exists()
