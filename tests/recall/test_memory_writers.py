"""The memory writers see the memories most like the turn: agentic memory gets search_memories for
what the budget left out, the automatic manager is shown the similar memories (not the recent
ones), and a near-duplicate is not stored twice."""

from __future__ import annotations

import pytest

from agentapp import app_agent
from agentapp.agent.memory.own_name import own_names, said_as_the_person
from agentapp.agent.memory.recall import NEAR_DUPLICATE_SIMILARITY
from memory_app import services
from memory_app.models import Memory, MemoryEmbedding
from tests.fake_openai import MEMORY_MANAGER_LANE, fake_embedding, request_lane

pytestmark = pytest.mark.django_db

TARGET = "Alice is allergic to peanuts"


@pytest.fixture
def alice_with_memories(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        target, _ = services.memory_create(user_pk=alice.pk, text=TARGET, actor="person")
    for i in range(30):
        with django_capture_on_commit_callbacks(execute=True):
            services.memory_create(user_pk=alice.pk, text=f"Alice enjoys hobby number {i}", actor="person")
    return target


def tool_result(request_body: dict, name: str) -> str:
    messages = request_body["messages"]
    calls = {c["id"]: c["function"]["name"] for m in messages for c in m.get("tool_calls") or []}
    return next(
        m["content"] for m in messages if m["role"] == "tool" and calls.get(m["tool_call_id"]) == name
    )


def test_agentic_memory_can_search_past_what_the_budget_let_in(
    fake_embedder, alice_with_memories, make_agent
):
    target = alice_with_memories
    fake_embedder.reply(tool_calls=[("search_memories", {"query": "peanut allergy"})])
    fake_embedder.reply(text="You are allergic to peanuts.")
    agent = make_agent(
        "chat", enable_agentic_memory=True, memory_context_limit=3, embedder=app_agent.recall_embedder()
    )

    output = agent.run("Good morning!", user_id="alice")

    assert target.memory_id not in output.memories_used  # nothing in the greeting pointed at it
    tools = [t["function"]["name"] for t in fake_embedder.requests[0].body["tools"]]
    assert "search_memories" in tools
    found = tool_result(fake_embedder.requests[1].body, "search_memories")
    assert target.memory_id in found and TARGET in found
    assert not any(mid in found for mid in output.memories_used)  # only what the context lacked


def test_the_automatic_memory_manager_is_shown_the_similar_memories(
    fake_embedder, alice_with_memories, make_agent
):
    target = alice_with_memories
    fake_embedder.reply(text="Noted.")
    fake_embedder.reply(
        tool_calls=[
            (
                "update_memory",
                {"memory_id": target.memory_id, "memory": "Alice is allergic to peanuts and almonds"},
            )
        ],
        lane=MEMORY_MANAGER_LANE,
    )
    fake_embedder.reply(text="Done.", lane=MEMORY_MANAGER_LANE)
    agent = make_agent(
        "chat", update_memory_on_run=True, memory_context_limit=5, embedder=app_agent.recall_embedder()
    )

    agent.run("Turns out I am allergic to almonds as well as peanuts", user_id="alice")

    manager_request = next(
        r.body for r in fake_embedder.requests if request_lane(r.body) == MEMORY_MANAGER_LANE
    )
    stored = manager_request["messages"][0]["content"]
    assert target.memory_id in stored and stored.count("[mem_") == 5
    target.refresh_from_db()
    assert target.text == "Alice is allergic to peanuts and almonds"  # updated, not added again
    assert Memory.objects.filter(user__username="alice", deleted_at__isnull=True).count() == 31


def test_a_near_duplicate_is_not_stored_twice(fake_embedder, alice_with_memories, make_agent):
    target = alice_with_memories
    restated = "Peanuts: Alice is allergic to"  # the same words: the same meaning to this embedder
    fake_embedder.reply(tool_calls=[("add_memory", {"memory": restated})])
    fake_embedder.reply(tool_calls=[("add_memory", {"memory": "Alice drives a green van"})])
    fake_embedder.reply(text="ok")
    agent = make_agent("chat", enable_agentic_memory=True, embedder=app_agent.recall_embedder())

    output = agent.run("Remember these", user_id="alice")

    assert output.status == "completed"
    first = tool_result(fake_embedder.requests[1].body, "add_memory")
    assert first.startswith(f'Already stored as {target.memory_id}: "{TARGET}"; nothing changed.')
    assert not Memory.objects.filter(text=restated).exists()
    van = Memory.objects.get(text="Alice drives a green van")
    # Its embedding was made to compare it, and kept.
    assert MemoryEmbedding.objects.get(memory=van).vector == pytest.approx(
        fake_embedding(said_as_the_person(van.text, own_names("alice"))), abs=1e-6
    )


def test_the_threshold_lets_a_different_fact_on_the_same_topic_through():
    # Measured on bench/fixtures/memory_duplicates.json with all-MiniLM-L6-v2 (bench/memory_recall.py).
    assert 0.8 <= NEAR_DUPLICATE_SIMILARITY < 1.0
    similar = fake_embedding("Alice is allergic to peanuts")
    other = fake_embedding("Alice is allergic to shellfish")
    assert sum(a * b for a, b in zip(similar, other, strict=True)) < NEAR_DUPLICATE_SIMILARITY


def test_search_memories_is_bound_to_the_runs_user(
    fake_embedder, alice_with_memories, bob, make_agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        bobs, _ = services.memory_create(user_pk=bob.pk, text="Bob is allergic to peanuts", actor="person")
    fake_embedder.reply(tool_calls=[("search_memories", {"query": "Bob peanuts allergy"})])
    fake_embedder.reply(text="ok")
    agent = make_agent(
        "chat", enable_agentic_memory=True, memory_context_limit=3, embedder=app_agent.recall_embedder()
    )

    agent.run("hi", user_id="alice")

    found = tool_result(fake_embedder.requests[1].body, "search_memories")
    assert bobs.memory_id not in found and "Bob" not in found
    assert TARGET in found  # alice's own memory about peanuts is what it finds
