"""Search, topics, export, and the budget of memories put into the context."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from memory_app import selectors, services
from memory_app.models import Memory, MemoryChange
from sessions_app.models import Run

pytestmark = [pytest.mark.django_db, pytest.mark.server_paths]


def test_search_matches_text_and_topics_of_active_memories_newest_first(alice, bob, remember):
    tea = remember(alice, "Drinks green tea every morning", ["drinks"])
    coffee = remember(alice, "Dislikes coffee", ["drinks"])
    remember(alice, "Lives in Paris", ["home"])
    gone = remember(alice, "Used to drink black tea")
    services.memory_delete(memory=gone, actor="person")
    remember(bob, "Drinks tea too")

    assert list(selectors.memories_search(user_pk=alice.pk, query="tea")) == [tea]
    assert list(selectors.memories_search(user_pk=alice.pk, query="drinks")) == [coffee, tea]
    assert selectors.memories_search(user_pk=alice.pk).count() == 3


def test_search_finds_words_by_their_beginning_while_typing(alice, remember):
    memory = remember(alice, "Prefers email over phone")

    assert list(selectors.memories_search(user_pk=alice.pk, query="emai")) == [memory]
    assert list(selectors.memories_search(user_pk=alice.pk, query="prefers email")) == [memory]
    assert list(selectors.memories_search(user_pk=alice.pk, query="fax")) == []


def test_search_treats_query_syntax_as_plain_text(alice, remember):
    remember(alice, "Prefers email over phone")

    for query in ["email & | ! (", "':* <->", "\\", "%_"]:
        list(selectors.memories_search(user_pk=alice.pk, query=query))  # no error


def test_topic_filter_matches_whole_topics_only(alice, remember):
    tea = remember(alice, "Drinks tea", ["drinks", "morning"])
    remember(alice, "Drinks a lot", ["drinks-lots"])

    assert list(selectors.memories_search(user_pk=alice.pk, topic="morning")) == [tea]
    assert list(selectors.memories_search(user_pk=alice.pk, topic="Drinks")) == [tea]
    assert list(selectors.memories_search(user_pk=alice.pk, query="tea", topic="home")) == []


def test_topics_are_counted_over_active_memories(alice, remember):
    remember(alice, "a", ["drinks", "morning"])
    remember(alice, "b", ["drinks"])
    services.memory_delete(memory=remember(alice, "c", ["home"]), actor="person")

    assert selectors.memory_topics(user_pk=alice.pk) == [("drinks", 2), ("morning", 1)]


def test_the_export_is_json_with_every_active_memory(alice, remember):
    remember(alice, "Lives in Paris", ["home"])

    exported = json.loads(json.dumps(selectors.memories_export(user_pk=alice.pk)))

    assert exported["user_id"] == "alice"
    assert [(m["memory"], m["topics"]) for m in exported["memories"]] == [("Lives in Paris", ["home"])]


def test_memory_changes_lists_the_history_newest_first(alice, remember):
    memory = remember(alice, "a")
    services.memory_update(memory=memory, text="b", actor="person")

    assert [c.action for c in selectors.memory_changes(memory=memory)] == ["update", "create"]


def test_the_context_holds_at_most_the_budget_of_most_recent_memories(
    alice, remember, make_agent, fake_openai
):
    for n in range(5):
        remember(alice, f"fact number {n}")
    newest = services.memory_update(
        memory=Memory.objects.get(text="fact number 0"), text="fact number zero", actor="person"
    )
    fake_openai.reply(text="ok")

    output = make_agent("chat", enable_agentic_memory=True, memory_context_limit=2).run(
        "hi", user_id="alice", session_id="s"
    )

    expected = [newest.memory_id, Memory.objects.get(text="fact number 4").memory_id]
    assert output.memories_used == expected
    assert Run.objects.get().memories_used == expected
    sent = json.dumps(fake_openai.requests[0].body)
    assert "fact number zero" in sent and "fact number 4" in sent and "fact number 3" not in sent


def test_postgres_search_can_use_the_gin_index(alice, remember):
    remember(alice, "Prefers email over phone")
    # Without the user filter, so the only index that can serve the query is the full-text one.
    query = selectors.memories_matching(Memory.objects.all(), "email")
    assert query.count() == 1
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "memory_search_document_gin" in plan


def test_changes_name_their_actor_in_words():
    assert MemoryChange.Actor.MEMORY_MANAGER.label == "Memory manager"
