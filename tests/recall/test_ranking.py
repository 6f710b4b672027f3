"""The fusion and the budget, on plain records (agent.recall is pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from agentapp.agent.memory.recall import (
    RRF_K,
    STRONG_WORDS_SCORE,
    WEIGHTS,
    Candidate,
    Recalled,
    RecallQuery,
    all_of,
    fits,
    fuse,
    memory_tokens,
    ranked_recall,
    within_budget,
    words_weight,
)
from agentapp.agent.prompt import render_memories
from agentapp.agent.records import UserMemory


def memory(n: int, text: str | None = None) -> UserMemory:
    return UserMemory(memory_id=f"m{n}", memory=text or f"fact number {n}", topics=[], user_id="alice")


def test_a_memory_found_by_more_signals_beats_one_found_at_the_same_rank_by_fewer():
    # A weak words match (below STRONG_WORDS_SCORE): words count for WEIGHTS["words"] only.
    both = Candidate(memory(1), meaning_rank=2, words_rank=1, words_score=1.0, recency_rank=40)
    meaning_only = Candidate(memory(2), meaning_rank=2)
    words_only = Candidate(memory(3), words_rank=1, words_score=0.5)

    ranked = fuse([meaning_only, words_only, both])

    assert [r.memory.memory_id for r in ranked] == ["m1", "m2", "m3"]
    expected = (
        WEIGHTS["meaning"] / (RRF_K + 2) + WEIGHTS["words"] / (RRF_K + 1) + WEIGHTS["recency"] / (RRF_K + 40)
    )
    assert abs(ranked[0].score - expected) < 1e-12
    assert ranked[0].signals["meaning_rank"] == 2 and ranked[0].signals["words_rank"] == 1


def test_a_far_memory_is_not_counted_as_found_by_meaning():
    far = Candidate(memory(1), meaning_rank=1, similarity=0.05, recency_rank=9)
    near = Candidate(memory(2), meaning_rank=2, similarity=0.6, recency_rank=10)

    recall = ranked_recall([far, near], RecallQuery(text="q", limit=2), total=2, vector=None)

    assert [m.memory_id for m in recall.memories] == ["m2", "m1"]
    assert recall.chosen[1].signals["meaning_rank"] is None


def test_words_weigh_much_more_once_the_best_words_match_is_strong():
    by_meaning = [Candidate(memory(n), meaning_rank=n) for n in range(1, 6)]

    def place_of_words_match(score: float) -> int:
        words_only = Candidate(memory(9), words_rank=1, words_score=score)
        ranked = fuse([*by_meaning, words_only])
        return [r.memory.memory_id for r in ranked].index("m9") + 1

    # A weak match (one common word) at words rank 1 comes after everything meaning found...
    assert place_of_words_match(STRONG_WORDS_SCORE - 0.5) == 6
    # ...a strong one (a rare name, several words) right after meaning's best.
    assert place_of_words_match(STRONG_WORDS_SCORE) == 2


def test_the_query_s_best_words_score_sets_the_words_weight_for_every_candidate():
    weak = [
        Candidate(memory(1), words_rank=1, words_score=2.0),
        Candidate(memory(2), words_rank=2, words_score=1.0),
    ]
    strong = [*weak, Candidate(memory(3), words_rank=3, words_score=STRONG_WORDS_SCORE + 1)]
    # A score the words signal did not rank (left out of its top) decides nothing.
    unranked = [*weak, Candidate(memory(3), meaning_rank=1, words_score=STRONG_WORDS_SCORE + 1)]

    assert words_weight(weak, WEIGHTS) == WEIGHTS["words"]
    assert words_weight(strong, WEIGHTS) == WEIGHTS["words"] + WEIGHTS["strong_words"]
    assert words_weight(unranked, WEIGHTS) == WEIGHTS["words"]
    second = next(r for r in fuse(strong) if r.memory.memory_id == "m2")
    assert abs(second.score - (WEIGHTS["words"] + WEIGHTS["strong_words"]) / (RRF_K + 2)) < 1e-12


def test_meaning_outweighs_words_and_words_outweigh_recency_at_equal_rank():
    ranked = fuse(
        [
            Candidate(memory(1), recency_rank=1),
            Candidate(memory(2), words_rank=1),
            Candidate(memory(3), meaning_rank=1),
        ]
    )
    assert [r.memory.memory_id for r in ranked] == ["m3", "m2", "m1"]


def test_the_budget_counts_memories_and_tokens_and_passes_over_one_too_long():
    long = memory(2, "x" * 400)  # about 100 tokens
    ranked = fuse(
        [
            Candidate(memory(1), meaning_rank=1),
            Candidate(long, meaning_rank=2),
            Candidate(memory(3), meaning_rank=3),
        ]
    )
    small = memory_tokens(memory(1))

    assert [r.memory.memory_id for r in within_budget(ranked, limit=2, tokens=None)] == ["m1", "m2"]
    chosen = within_budget(ranked, limit=3, tokens=small * 2 + 1)
    assert [r.memory.memory_id for r in chosen] == ["m1", "m3"]
    assert within_budget(ranked, limit=0, tokens=None) == []


def test_all_memories_fit_only_within_both_the_count_and_the_tokens():
    three = [memory(1), memory(2), memory(3)]
    assert fits(three, limit=3, tokens=None)
    assert not fits(three, limit=2, tokens=None)
    assert not fits(three, limit=3, tokens=memory_tokens(memory(1)) * 2)
    assert [m.memory_id for m in all_of(three).memories] == ["m1", "m2", "m3"]
    assert all_of(three).strategy == "all"


def test_the_strategy_says_which_signals_took_part():
    query = RecallQuery(text="q", limit=5)
    assert (
        ranked_recall(
            [Candidate(memory(1), meaning_rank=1, recency_rank=1)], query, total=9, vector=None
        ).strategy
        == "hybrid"
    )
    assert (
        ranked_recall(
            [Candidate(memory(1), words_rank=1, recency_rank=1)], query, total=9, vector=None
        ).strategy
        == "words+recency"
    )
    assert (
        ranked_recall([Candidate(memory(1), recency_rank=1)], query, total=9, vector=None).strategy
        == "recency"
    )


def test_each_memory_in_the_context_carries_its_date_and_the_budget_counts_it():
    undated = memory(1, "Alice moved to Porto")
    dated = UserMemory(
        memory_id="m1",
        memory="Alice moved to Porto",
        topics=[],
        user_id="alice",
        updated_at=datetime(2026, 3, 2, 18, 30, tzinfo=UTC),
    )

    assert "- [m1] (2026-03-02) Alice moved to Porto" in render_memories([dated])
    assert memory_tokens(dated) > memory_tokens(undated)
    # A budget that fits the undated line but not the date beside it leaves the memory out.
    assert within_budget([Recalled(undated, 1.0, {})], limit=5, tokens=memory_tokens(undated))
    assert not within_budget([Recalled(dated, 1.0, {})], limit=5, tokens=memory_tokens(undated))
