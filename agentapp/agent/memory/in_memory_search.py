"""The candidates for THE ranking, and a new memory's nearest twin, without a database (InMemoryDb):
words shared with the text, cosine similarity to its vector, recency."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..records import UserMemory
from .query_embedding import QueryVector
from .recall import Candidate

_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "do",
        "does",
        "did",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "about",
        "any",
        "can",
        "could",
        "should",
        "would",
    ]
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W_]+", text.lower()) if w not in _STOP_WORDS}


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))  # both unit length


def candidates_in_memory(
    newest_first: Sequence[UserMemory],
    *,
    text: str,
    vector: QueryVector | None,
    vectors: dict[str, tuple[str, list[float]]],
) -> list[Candidate]:
    """Every memory with its rank by words shared with `text`, by cosine similarity (for those with
    a vector by the same model and dimension as the query's) and by recency."""
    query_words = _words(text)
    overlap = {m.stored_id: len(query_words & _words(m.memory)) for m in newest_first}
    by_words = [
        m.stored_id for m in sorted(newest_first, key=lambda m: -overlap[m.stored_id]) if overlap[m.stored_id]
    ]
    similarity: dict[str, float] = {}
    if vector is not None and vector.vector is not None:
        for m in newest_first:
            model, stored = vectors.get(m.stored_id, ("", []))
            if model == vector.model and len(stored) == len(vector.vector):
                similarity[m.stored_id] = _cosine(stored, vector.vector)
    by_meaning = sorted(similarity, key=lambda mid: -similarity[mid])
    words_rank = {mid: rank for rank, mid in enumerate(by_words, start=1)}
    meaning_rank = {mid: rank for rank, mid in enumerate(by_meaning, start=1)}
    return [
        Candidate(
            memory=m,
            meaning_rank=meaning_rank.get(m.stored_id),
            similarity=similarity.get(m.stored_id),
            words_rank=words_rank.get(m.stored_id),
            words_score=float(overlap[m.stored_id]) if m.stored_id in words_rank else None,
            recency_rank=rank,
        )
        for rank, m in enumerate(newest_first, start=1)
    ]


def nearest_in_memory(
    vector: QueryVector, vectors: dict[str, tuple[str, list[float]]]
) -> tuple[str, float] | None:
    if vector.vector is None:
        return None
    scored = [
        (mid, _cosine(stored, vector.vector))
        for mid, (model, stored) in vectors.items()
        if model == vector.model and len(stored) == len(vector.vector)
    ]
    return max(scored, key=lambda item: item[1]) if scored else None
