"""Agno's memory verbs and manager surface (issue 31, items 5, 8 and 10): `clear_memories()` with no
argument, `delete_user_memory(ies)` without a user, `deserialize=`; the manager's `read_from_db`,
`clear`, async twins, `id`/`name`, no db; the summary manager's checks and response format; and
`optimize_memories()` returning the memories. Ported in our words from Agno's
`memory/test_memory_manager_crud.py`, `memory/test_memory_manager_async.py`, `db/*/test_memory.py`
and `session/test_session_summary*.py`, on both storages where a storage is used.

Where Agno is unsafe, this project's stance holds: `clear_memories()` clears one person's memories
(the default user's), never everyone's."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from agentapp.agent import MemoryManager, SessionSummaryManager, SessionSummaryResponse, UserMemory


def remember(storage, text: str, user: str) -> str:
    return storage.upsert_user_memory(UserMemory(memory=text, user_id=user)).memory_id


def test_clear_memories_without_a_person_clears_the_default_users_only(storage):
    remember(storage, "Default likes tea", "default")
    remember(storage, "Sarah likes coffee", "sarah")

    assert storage.clear_memories() == 1

    assert storage.get_user_memories("default") == []
    assert [m.memory for m in storage.get_user_memories("sarah")] == ["Sarah likes coffee"]


def test_a_memory_is_deleted_by_its_id_alone_as_it_is_read_by_it(storage):
    first = remember(storage, "Sarah likes tea", "sarah")
    second = remember(storage, "Sarah likes jazz", "sarah")
    third = remember(storage, "Sarah likes Lisbon", "sarah")

    assert storage.delete_user_memory(first) is True
    assert storage.get_user_memory(first) is None
    assert storage.delete_user_memories([second, "missing"]) == 1
    assert storage.delete_user_memory(third, user_id="bob") is False  # naming a person still scopes it
    assert [m.memory for m in storage.get_user_memories("sarah")] == ["Sarah likes Lisbon"]


def test_deserialize_false_answers_dicts_and_a_memory_without_a_person_is_the_default_users(storage):
    stored = storage.upsert_user_memory(UserMemory(memory="Likes tea"), deserialize=False)

    assert isinstance(stored, dict) and stored["user_id"] == "default" and stored["memory"] == "Likes tea"
    fetched = storage.get_user_memory(stored["memory_id"], deserialize=False)
    assert fetched["memory_id"] == stored["memory_id"]
    assert isinstance(storage.get_user_memory(stored["memory_id"]), UserMemory)


def test_read_from_db_groups_by_person_and_clear_clears_the_default_users(storage):
    remember(storage, "Default likes tea", "default")
    remember(storage, "Sarah likes coffee", "sarah")
    remember(storage, "Sarah likes jazz", "sarah")
    manager = MemoryManager(db=storage, id="mm-1", name="Memories")

    grouped = manager.read_from_db()

    assert (manager.id, manager.name) == ("mm-1", "Memories")
    assert {user: len(memories) for user, memories in grouped.items()} == {"default": 1, "sarah": 2}
    assert list(manager.read_from_db(user_id="sarah")) == ["sarah"]
    manager.clear()
    assert list(manager.read_from_db()) == ["sarah"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("storage_name", ["django", "in_memory"])
def test_the_managers_async_twins(storage_name, make_model, fake_openai):
    from agentapp.agent import InMemoryDb
    from agentapp.db import DjangoDb

    storage = DjangoDb() if storage_name == "django" else InMemoryDb()
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User needs milk"})])
    fake_openai.reply(text="Noted.")
    manager = MemoryManager(model=make_model("chat"), db=storage)

    async def go():
        reply = await manager.acreate_user_memories(message="Remember the milk", user_id="user-1")
        answers = reply, await manager.aget_user_memories(user_id="user-1"), await manager.aread_from_db()
        await sync_to_async(connections.close_all)()  # the twins' thread's connection, before teardown
        return answers

    reply, memories, grouped = asyncio.run(go())

    assert reply == "Noted."
    assert [m.memory for m in memories] == ["User needs milk"]
    assert list(grouped) == ["user-1"]


def test_a_manager_without_a_db_finds_nothing_and_warns(caplog):
    manager = MemoryManager()

    with caplog.at_level(logging.WARNING, logger="agentapp.agent.memory"):
        assert manager.get_user_memories() == []
        assert manager.get_user_memory("m1") is None
        assert manager.add_user_memory(UserMemory(memory="x")) is None
        assert manager.read_from_db() is None
        assert asyncio.run(manager.aget_user_memories()) == []

    assert "has no db" in caplog.text


def test_optimize_memories_returns_the_memories_after_it_and_a_dry_run_writes_nothing(
    storage, make_model, fake_openai
):
    manager = MemoryManager(model=make_model("chat"), db=storage)
    ids = [
        manager.add_user_memory(UserMemory(memory=t), user_id="sarah") for t in ("Likes tea", "Enjoys tea")
    ]
    kept = manager.add_user_memory(UserMemory(memory="Lives in Porto"), user_id="sarah")
    answer = json.dumps({"merges": [{"ids": ids, "memory": "Likes tea", "topics": ["drinks"]}]})
    fake_openai.reply(text=answer)
    fake_openai.reply(text=answer)

    would = manager.optimize_memories(user_id="sarah", apply=False)
    assert sorted(m.memory for m in would) == ["Likes tea", "Lives in Porto"]
    assert len(manager.get_user_memories(user_id="sarah")) == 3

    after = manager.optimize_memories(user_id="sarah")
    assert sorted(m.memory for m in after) == ["Likes tea", "Lives in Porto"]
    assert kept in [m.memory_id for m in after]


def test_the_summary_manager_refuses_a_window_below_one_and_offers_agnos_response_format():
    with pytest.raises(ValueError, match="last_n_runs must be a positive integer"):
        SessionSummaryManager(last_n_runs=0)
    with pytest.raises(ValueError, match="conversation_limit must be a positive integer"):
        SessionSummaryManager(conversation_limit=-1)

    manager = SessionSummaryManager()

    class Native:
        supports_native_structured_outputs = True

    class JsonSchema:
        supports_json_schema_outputs = True

    assert manager.get_response_format(Native()) is SessionSummaryResponse
    asked = manager.get_response_format(JsonSchema())
    assert asked["type"] == "json_schema" and asked["json_schema"]["name"] == "SessionSummaryResponse"
    assert manager.get_response_format(object()) == {"type": "json_object"}
    response = SessionSummaryResponse(summary="Trip planning", topics=["travel"])
    assert (
        json.loads(response.to_json())
        == response.to_dict()
        == {"summary": "Trip planning", "topics": ["travel"]}
    )


def test_the_agents_memories_have_an_async_twin(make_model):
    from agentapp.agent import Agent, InMemoryDb

    agent = Agent(model=make_model("chat"), db=InMemoryDb(), user_id="sarah")
    agent.db.upsert_user_memory(UserMemory(memory="Likes tea", user_id="sarah"))

    assert [m.memory for m in asyncio.run(agent.aget_user_memories())] == ["Likes tea"]


def test_get_user_memories_without_deserialize_is_agnos_page_and_total(storage):
    for text in ("Likes tea", "Likes jazz", "Lives in Porto"):
        remember(storage, text, "sarah")

    page, total = storage.get_user_memories("sarah", limit=2, page=2, deserialize=False)

    assert total == 3 and [m["memory"] for m in page] == ["Lives in Porto"]
    assert storage.get_user_memories("sarah", deserialize=False)[1] == 3
