"""MemoryManager as Agno's: its own model and prompt for the automatic update, the writes it allows,
and standalone use over a db (create_user_memories, update_memory_task, CRUD, search), every write
audited with its actor."""

from __future__ import annotations

import json

import pytest

from agentapp.agent import Agent, MemoryManager, UserMemory
from agentapp.db import DjangoDb
from agentapp.llm import OpenAIChat
from agentapp.llm.types import Message
from memory_app.models import MemoryChange
from tests.fake_openai import MEMORY_MANAGER_LANE, request_lane


@pytest.fixture
def cheap_model(fake_openai):
    return OpenAIChat(
        id="gpt-cheap", base_url=fake_openai.base_url, api_key="sk-test", max_retries=0, timeout=5.0
    )


def tool_names(body: dict) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools") or []]


@pytest.mark.django_db
def test_the_automatic_update_uses_the_managers_own_model_and_capture_instructions(
    make_model, cheap_model, fake_openai
):
    manager = MemoryManager(model=cheap_model, memory_capture_instructions="Only capture food preferences.")
    agent = Agent(model=make_model("chat"), db=DjangoDb(), update_memory_on_run=True, memory_manager=manager)
    fake_openai.reply(text="Enjoy!")
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User loves ramen"})], lane=MEMORY_MANAGER_LANE)
    fake_openai.reply(text="Done.", lane=MEMORY_MANAGER_LANE)

    output = agent.run("I love ramen and I live in Oslo", user_id="sarah", session_id="s")

    # Asked side by side, in either order.
    (reply,) = [r.body for r in fake_openai.requests if request_lane(r.body) is None]
    manager_request = next(
        r.body for r in fake_openai.requests if request_lane(r.body) == MEMORY_MANAGER_LANE
    )
    assert reply["model"] == "gpt-test" and manager_request["model"] == "gpt-cheap"
    assert "Only capture food preferences." in manager_request["messages"][0]["content"]
    # Agno's defaults: add and update, no delete.
    assert tool_names(manager_request) == ["add_memory", "update_memory"]
    change = MemoryChange.objects.get()
    assert (change.actor, change.run.run_id) == ("memory_manager", output.run_id)


@pytest.mark.django_db
def test_a_custom_managers_prompt_shows_on_the_run_pages_context_view(
    client, alice, make_model, cheap_model, fake_openai
):
    manager = MemoryManager(model=cheap_model, system_message="You keep a diary of Alice's tastes.")
    agent = Agent(model=make_model("chat"), db=DjangoDb(), update_memory_on_run=True, memory_manager=manager)
    fake_openai.reply(text="Noted.")
    fake_openai.reply(text="No changes.", lane=MEMORY_MANAGER_LANE)
    output = agent.run("I like tea", user_id="alice", session_id="alice-thread")

    client.force_login(alice)
    body = client.get(f"/runs/{output.run_id}/context/").content.decode()
    assert "You keep a diary of Alice&#x27;s tastes." in body or "You keep a diary of Alice's tastes." in body


def test_agentic_memory_offers_only_the_writes_the_manager_allows(storage, make_model, fake_openai):
    manager = MemoryManager(add_memories=True, update_memories=False, delete_memories=False)
    agent = Agent(model=make_model("chat"), db=storage, enable_agentic_memory=True, memory_manager=manager)
    fake_openai.reply(text="ok")

    agent.run("hi", user_id="sarah", session_id="s")

    assert "add_memory" in tool_names(fake_openai.requests[0].body)
    assert not {"update_memory", "delete_memory"} & set(tool_names(fake_openai.requests[0].body))


def test_create_user_memories_from_a_list_of_messages(storage, cheap_model, fake_openai):
    manager = MemoryManager(model=cheap_model, db=storage)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User is a nurse", "topics": ["work"]})])
    fake_openai.reply(text="Stored one memory.")

    reply = manager.create_user_memories(
        messages=[
            Message(role="user", content="I work nights as a nurse."),
            Message(role="assistant", content="That sounds demanding."),
            Message(role="user", content="It is!"),
        ],
        user_id="sarah",
    )

    assert reply == "Stored one memory."
    said = fake_openai.requests[0].body["messages"][1]["content"]
    assert "I work nights as a nurse." in said and "That sounds demanding." not in said
    assert [(m.memory, m.topics) for m in manager.get_user_memories(user_id="sarah")] == [
        ("User is a nurse", ["work"])
    ]


@pytest.mark.django_db
def test_standalone_writes_are_audited_as_the_memory_manager_with_no_run(cheap_model):
    manager = MemoryManager(model=cheap_model, db=DjangoDb())
    memory = UserMemory(memory="User likes jazz", topics=["music"])

    memory_id = manager.add_user_memory(memory, user_id="sarah")
    manager.replace_user_memory(memory_id, UserMemory(memory="User likes bebop jazz"), user_id="sarah")
    assert manager.get_user_memory(memory_id, user_id="sarah").memory == "User likes bebop jazz"
    assert manager.delete_user_memory(memory_id, user_id="sarah") is True

    changes = list(MemoryChange.objects.order_by("id").values_list("action", "actor", "run"))
    assert changes == [
        ("create", "memory_manager", None),
        ("update", "memory_manager", None),
        ("delete", "memory_manager", None),
    ]
    assert memory.memory_id == memory_id  # set on the record it was given, as Agno does


def test_a_manager_cannot_replace_another_persons_memory(storage):
    manager = MemoryManager(db=storage)
    bobs = manager.add_user_memory(UserMemory(memory="Bob is a pilot"), user_id="bob")

    with pytest.raises(Exception, match="not found"):
        manager.replace_user_memory(bobs, UserMemory(memory="hijacked"), user_id="sarah")
    assert manager.get_user_memory(bobs, user_id="bob").memory == "Bob is a pilot"


def test_clear_user_memories_clears_one_person_only(storage):
    manager = MemoryManager(db=storage)
    for text in ("User likes tea", "User likes cake"):
        manager.add_user_memory(UserMemory(memory=text), user_id="sarah")
    manager.add_user_memory(UserMemory(memory="Bob is a pilot"), user_id="bob")

    assert manager.clear_user_memories(user_id="sarah") == 2

    assert manager.get_user_memories(user_id="sarah") == []
    assert [m.memory for m in manager.get_user_memories(user_id="bob")] == ["Bob is a pilot"]


def test_update_memory_task_lets_the_model_delete_when_allowed(storage, cheap_model, fake_openai):
    manager = MemoryManager(model=cheap_model, db=storage, delete_memories=True)
    memory_id = manager.add_user_memory(UserMemory(memory="User lives in Oslo"), user_id="sarah")
    fake_openai.reply(tool_calls=[("delete_memory", {"memory_id": memory_id})])
    fake_openai.reply(text="Forgotten.")

    assert manager.update_memory_task("Forget where I live", user_id="sarah") == "Forgotten."

    assert manager.get_user_memories(user_id="sarah") == []
    request = fake_openai.requests[0].body
    assert "Forget where I live" in request["messages"][1]["content"]
    assert "delete_memory" in tool_names(request) and "clear_memories" not in tool_names(request)


def test_search_user_memories_last_n_first_n_and_by_relevance(storage):
    manager = MemoryManager(db=storage)
    for text in ("User likes tea", "User has a dog named Rex", "User works as a nurse", "User lives in Oslo"):
        manager.add_user_memory(UserMemory(memory=text), user_id="sarah")

    first = manager.search_user_memories(retrieval_method="first_n", limit=2, user_id="sarah")
    last = manager.search_user_memories(retrieval_method="last_n", limit=2, user_id="sarah")
    relevant = manager.search_user_memories(
        query="what is the dog called", retrieval_method="relevance", limit=1, user_id="sarah"
    )

    assert [m.memory for m in first] == ["User likes tea", "User has a dog named Rex"]
    assert [m.memory for m in last] == ["User works as a nurse", "User lives in Oslo"]
    assert [m.memory for m in relevant] == ["User has a dog named Rex"]


def test_memories_read_through_the_agent_name_the_run_that_wrote_them(storage, make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=storage, enable_agentic_memory=True)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes tea"})])
    fake_openai.reply(text="Noted.")
    output = agent.run("I like tea", user_id="sarah", session_id="s")

    [memory] = agent.get_user_memories(user_id="sarah")

    assert memory.source_run_id == output.run_id


def test_memories_come_back_oldest_first_as_agno_returns_them(storage):
    manager = MemoryManager(db=storage)
    for text in ("first fact", "second fact", "third fact"):
        manager.add_user_memory(UserMemory(memory=text), user_id="sarah")
    agent = Agent(db=storage, user_id="sarah")
    assert [m.memory for m in agent.get_user_memories()] == ["first fact", "second fact", "third fact"]


def test_a_user_memory_round_trips_through_a_dict_and_takes_agnos_epoch_seconds():
    memory = UserMemory.from_dict(
        {
            "memory": "User likes tea",
            "memory_id": "m1",
            "topics": ["drinks"],
            "user_id": "sarah",
            "updated_at": 1_700_000_000,
            "feedback": "good",
        }
    )
    assert memory.updated_at.timestamp() == 1_700_000_000
    again = UserMemory.from_dict(json.loads(json.dumps(memory.to_dict())))
    assert again == memory
    memory.memory = "User likes green tea"  # plain and mutable, as Agno's
    assert memory.to_dict()["memory"] == "User likes green tea"


def test_the_demo_model_works_as_a_standalone_managers_model(storage):
    from agentapp.llm import DemoModel

    manager = MemoryManager(model=DemoModel(), db=storage)
    manager.create_user_memories(message="My name is Sarah.", user_id="sarah")
    assert [m.memory for m in manager.get_user_memories(user_id="sarah")] == ["User's name is Sarah."]


def test_a_failed_model_request_raises_its_error_from_a_standalone_call(storage, cheap_model, fake_openai):
    from agentapp.agent import ModelError

    fake_openai.reply(status=500, error="boom")
    with pytest.raises(ModelError):
        MemoryManager(model=cheap_model, db=storage).create_user_memories(
            message="I like tea", user_id="sarah"
        )


def test_the_manager_optimises_three_duplicates_into_one_and_a_dry_run_writes_nothing(
    storage, cheap_model, fake_openai
):
    manager = MemoryManager(model=cheap_model, db=storage)
    ids = [
        manager.add_user_memory(UserMemory(memory=text), user_id="sarah")
        for text in ("User likes tea", "User enjoys tea", "User is fond of tea")
    ]
    answer = json.dumps({"merges": [{"ids": ids, "memory": "User likes tea", "topics": ["drinks"]}]})
    fake_openai.reply(text=answer)
    fake_openai.reply(text=answer)

    dry = manager.plan_optimization(user_id="sarah", apply=False)
    assert [m.source_ids for m in dry.merges] == [ids] and not dry.applied
    assert len(manager.get_user_memories(user_id="sarah")) == 3

    done = manager.optimize_memories(user_id="sarah")
    assert [(m.memory, m.topics) for m in done] == [("User likes tea", ["drinks"])]
    assert [(m.memory, m.topics) for m in manager.get_user_memories(user_id="sarah")] == [
        ("User likes tea", ["drinks"])
    ]
