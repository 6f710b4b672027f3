"""Each signal the ranking fuses, right on its own, on real PostgreSQL: words by BM25 (a person's own
document frequencies, the memory's length), meaning by an exact scan of the person's rows."""

from __future__ import annotations

import pytest
from django.db import connection

from memory_app import selectors, services
from memory_app.models import Memory
from tests.fake_openai import fake_embedding

pytestmark = pytest.mark.django_db


def _store(user, texts: list[str]) -> dict[str, str]:
    """The memories, bulk-created (no embedding jobs), as text -> memory_id."""
    rows = [Memory(user=user, text=t, normalized_text=services.normalize_text(t)) for t in texts]
    Memory.objects.bulk_create(rows)
    return {m.text: m.memory_id for m in rows}


def _by_words(user, text: str, total: int) -> list[str]:
    rows = selectors.memory_recall_candidates(
        user_pk=user.pk, text=text, vector=None, model="", per_signal=50, common=max(5, total // 10)
    )
    ranked = sorted((r for r in rows if r["words_rank"] is not None), key=lambda r: r["words_rank"])
    return [r["text"] for r in ranked]


def test_a_rare_word_outweighs_a_frequent_one(alice):
    # "Maya" is in 8 of Alice's 100 memories (below the 10% left out as common), "kayak" in one.
    # Stored first, so the oldest: no tie-break by recency puts it first.
    texts = ["Alice bought a red kayak"]
    texts += [f"Maya had fun at school on day {i}" for i in range(8)]
    texts += [f"Alice enjoys hobby number {i} on weekends" for i in range(91)]
    _store(alice, texts)

    ranked = _by_words(alice, "Did Maya like the kayak?", total=len(texts))

    assert ranked[0] == "Alice bought a red kayak"
    assert set(ranked[1:9]) == set(texts[1:9])


def test_a_short_memory_outranks_a_long_one_sharing_the_same_word(alice):
    long = (
        "Alice keeps her grandmother's old kayak in the garage next to the bicycles, the tent, "
        "the camping stove and boxes of winter clothes"
    )
    _store(alice, ["Alice owns a kayak", long, *(f"Alice enjoys hobby number {i}" for i in range(20))])

    assert _by_words(alice, "kayak", total=22)[:2] == ["Alice owns a kayak", long]


def test_the_words_signal_counts_frequencies_among_the_persons_own_memories_only(alice, bob):
    # "kayak" is everywhere in Bob's memories: that must not make it common for Alice.
    _store(bob, [f"Bob paddles his kayak on lake {i}" for i in range(200)])
    _store(alice, ["Alice bought a red kayak", *(f"Alice enjoys hobby number {i}" for i in range(40))])

    assert _by_words(alice, "kayak", total=41) == ["Alice bought a red kayak"]


def test_meaning_is_exact_for_a_person_among_many_others_nearer_the_query(alice, bob):
    query = "Alice is allergic to peanuts and shellfish"
    # Bob's memories are nearer the query than most of Alice's, and there is an HNSW index over them
    # all: an approximate scan filtered to Alice afterwards would miss or misorder hers.
    with connection.cursor() as cursor:
        cursor.execute(selectors.meaning_index_sql(64))
    _store(bob, [f"Bob is allergic to peanuts and shellfish {i}" for i in range(1500)])
    _store(alice, [f"Alice {word} number {i}" for i in range(60) for word in ("sings", "cooks", "peanuts")])
    texts = dict(Memory.objects.values_list("pk", "text"))
    services.memory_embeddings_save(
        model="openai:fake-embed", vectors={pk: fake_embedding(t) for pk, t in texts.items()}, texts=texts
    )
    vector = fake_embedding(query)
    exact = sorted(
        (-sum(a * b for a, b in zip(fake_embedding(m.text), vector, strict=True)), m.pk, m.memory_id)
        for m in Memory.objects.filter(user=alice)
    )

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")  # as on a large table: the index's order is cheaper
        rows = selectors.memory_recall_candidates(
            user_pk=alice.pk, text="", vector=vector, model="openai:fake-embed", per_signal=50
        )

    by_meaning = sorted((r for r in rows if r["meaning_rank"] is not None), key=lambda r: r["meaning_rank"])
    assert [r["memory_id"] for r in by_meaning] == [memory_id for _, _, memory_id in exact[:50]]


def test_a_persons_memories_with_a_word_are_found_through_one_index():
    """BM25 counts each word of the message among the person's memories: the (person, document)
    GIN index answers that without scanning their rows once per word."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'memory_person_words_gin'")
        (definition,) = cursor.fetchone()

    assert "USING gin (user_id, search_document)" in definition and "deleted_at IS NULL" in definition
    assert "fastupdate=off" in definition  # no pending list for reads to scan or the planner to shun
