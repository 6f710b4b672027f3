"""Which of a person's memories go into the context: all of them when they fit the budget, else the
best by a fusion of meaning, words and recency. Pure: a storage supplies the candidates and each
one's rank by every signal; this module decides.

Fusion is weighted reciprocal rank fusion (Cormack et al., 2009): a memory scores
sum(weight / (RRF_K + rank)) over the signals that ranked it. Ranks, not raw scores, so cosine
similarities and full-text ranks need no common scale, and a memory with no embedding yet still
competes through words and recency. The weights were tuned on bench/memory_recall.py's fixture.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from agentapp.llm.embeddings import Embedder, EmbeddingError

from .context import estimate_tokens, render_memories
from .records import UserMemory

logger = logging.getLogger(__name__)

# Tuned with `bench/memory_recall.py --tune`: the best of the grid on half the questions, judged on
# the other half. Meaning carries most of it; words lift a memory that shares a rare word with the
# message (a name, a place); recency breaks near ties in favour of the newer of two memories.
RRF_K = 5
WEIGHTS: dict[str, float] = {"meaning": 1.0, "words": 0.1, "recency": 0.05}
QUERY_EMBED_TIMEOUT = 1.0  # seconds a turn waits for its query's embedding before recalling without it
# A new memory this similar (cosine) to a stored one of the same person says the same thing: it is
# not stored twice, and the model is told which memory it matched (to update it if it meant another
# fact). Measured on bench/fixtures/memory_duplicates.json (bench/memory_recall.py, part 2):
# all-MiniLM-L6-v2 puts many different facts on one topic ("allergic to peanuts" / "to shellfish")
# above 0.9, so the threshold is where merging two different facts becomes rare (6 of 180 hard
# negatives at 0.98, against 71 at 0.9); the memory manager, shown the similar memories, is what
# keeps most restatements out.
NEAR_DUPLICATE_SIMILARITY = 0.98

# Below this cosine similarity a memory is not "found by meaning" at all (for all-MiniLM-L6-v2,
# unrelated sentences about one person); it may still be found by words or recency.
RECALL_MIN_SIMILARITY = 0.15
# A search box lists memories at least this alike in meaning (all-MiniLM-L6-v2 puts unrelated
# sentences below about 0.2 and a paraphrase above about 0.5), besides those matching its words.
SEARCH_MIN_SIMILARITY = 0.3

# A word in at least this share of a person's memories (their name, "user") tells words apart from
# nothing: the words signal leaves it out.
COMMON_WORD_SHARE = 0.1


def common_word_count(total: int) -> int:
    return max(5, math.ceil(total * COMMON_WORD_SHARE))


Strategy = Literal["all", "hybrid", "words+recency", "recency"]


@dataclass(frozen=True)
class QueryVector:
    """A query's embedding, or why there is none (`note`)."""

    vector: list[float] | None
    model: str = ""
    note: str = ""
    elapsed_ms: float = 0.0


QueryEmbedding = Callable[[str], QueryVector]


@dataclass(frozen=True)
class RecallQuery:
    """What one recall is asked: the text to rank by, and the budget (a count and, optionally, tokens)."""

    text: str
    limit: int
    tokens: int | None = None
    # Embeds the text, asked only when ranking is needed (all memories fitting the budget costs no
    # embedding); None: no meaning signal.
    embed: QueryEmbedding | None = None
    # The person's own memories only; a storage never ranks anyone else's.
    exclude_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One memory and its place by every signal that found it (rank 1 is best; None: not found)."""

    memory: UserMemory
    meaning_rank: int | None = None
    similarity: float | None = None  # cosine similarity to the query
    words_rank: int | None = None
    words_score: float | None = None  # PostgreSQL's ts_rank_cd
    recency_rank: int | None = None


@dataclass(frozen=True)
class Recalled:
    memory: UserMemory
    score: float
    signals: dict[str, float | int | None]

    def to_dict(self) -> dict[str, object]:
        return {"memory_id": self.memory.memory_id, "score": round(self.score, 6), **self.signals}


@dataclass(frozen=True)
class Recall:
    """The memories chosen, best first, with each one's scores; how they were chosen and why so."""

    chosen: list[Recalled]
    strategy: Strategy
    total: int  # how many memories the person has (at least those considered)
    note: str = ""
    embedding_ms: float | None = None
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def memories(self) -> list[UserMemory]:
        return [item.memory for item in self.chosen]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.memory.stored_id for item in self.chosen)

    def to_dict(self) -> dict[str, object]:
        return {
            "strategy": self.strategy,
            "total": self.total,
            "note": self.note,
            "embedding_ms": self.embedding_ms,
            "memories": [item.to_dict() for item in self.chosen],
        }


NO_RECALL = Recall(chosen=[], strategy="all", total=0)


def memory_tokens(memory: UserMemory) -> int:
    """What one memory costs in the context (its line of the rendered list)."""
    return estimate_tokens(render_memories([memory])) - estimate_tokens("<memories>\n\n</memories>")


def fits(memories: Sequence[UserMemory], *, limit: int, tokens: int | None) -> bool:
    if len(memories) > limit:
        return False
    return tokens is None or sum(memory_tokens(m) for m in memories) <= tokens


def all_of(memories: Sequence[UserMemory]) -> Recall:
    """Every memory, newest first: the person's memories fit the budget."""
    chosen = [Recalled(m, 0.0, {"recency_rank": rank}) for rank, m in enumerate(memories, start=1)]
    return Recall(chosen=chosen, strategy="all", total=len(memories))


def fuse(
    candidates: Iterable[Candidate], weights: dict[str, float] | None = None, k: int = RRF_K
) -> list[Recalled]:
    """The candidates by weighted reciprocal rank fusion, best first (ties: the more recent)."""
    weights = WEIGHTS if weights is None else weights
    fused: list[Recalled] = []
    for c in candidates:
        score = 0.0
        for signal, rank in (
            ("meaning", c.meaning_rank),
            ("words", c.words_rank),
            ("recency", c.recency_rank),
        ):
            if rank is not None:
                score += weights.get(signal, 0.0) / (k + rank)
        signals: dict[str, float | int | None] = {
            "meaning_rank": c.meaning_rank,
            "similarity": None if c.similarity is None else round(c.similarity, 4),
            "words_rank": c.words_rank,
            "words_score": None if c.words_score is None else round(c.words_score, 4),
            "recency_rank": c.recency_rank,
        }
        fused.append(Recalled(c.memory, score, signals))
    far = 1 << 30
    fused.sort(key=lambda r: (-r.score, r.signals["recency_rank"] or far, r.memory.memory_id))
    return fused


def within_budget(ranked: Sequence[Recalled], *, limit: int, tokens: int | None) -> list[Recalled]:
    """The best of `ranked` that fit `limit` memories and `tokens`; a memory too long for what is left
    is passed over for shorter ones after it."""
    chosen: list[Recalled] = []
    used = 0
    for item in ranked:
        if len(chosen) >= limit:
            break
        cost = memory_tokens(item.memory)
        if tokens is not None and used + cost > tokens:
            continue
        chosen.append(item)
        used += cost
    return chosen


def _unless_too_far(candidate: Candidate) -> Candidate:
    # The nearest memories come first, so those left are still ranked 1, 2, 3... among themselves.
    if candidate.similarity is not None and candidate.similarity < RECALL_MIN_SIMILARITY:
        return dataclasses.replace(candidate, meaning_rank=None)
    return candidate


def ranked_recall(
    candidates: Sequence[Candidate],
    query: RecallQuery,
    *,
    total: int,
    vector: QueryVector | None,
    weights: dict[str, float] | None = None,
    k: int = RRF_K,
) -> Recall:
    candidates = [_unless_too_far(c) for c in candidates]
    has_meaning = any(c.meaning_rank is not None for c in candidates)
    has_words = any(c.words_rank is not None for c in candidates)
    strategy: Strategy = "hybrid" if has_meaning else ("words+recency" if has_words else "recency")
    chosen = within_budget(fuse(candidates, weights, k), limit=query.limit, tokens=query.tokens)
    note = vector.note if vector is not None else ""
    return Recall(
        chosen=chosen,
        strategy=strategy,
        total=total,
        note=note,
        embedding_ms=vector.elapsed_ms if vector is not None and vector.vector is not None else None,
    )


# --- the query's embedding, with a cap ----------------------------------------------------------
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-embed")
        return _pool


def capped_query_embedding(embedder: Embedder, *, timeout: float = QUERY_EMBED_TIMEOUT) -> QueryEmbedding:
    """Embeds a query on a worker thread and waits at most `timeout` seconds: an embedder that is down,
    slow, rate limited or still loading never holds a reply longer (the turn recalls without meaning,
    and says so). A local model still loading goes on loading meanwhile, for the turns after."""

    # An HTTP embedder is asked with a matching timeout and no retries, so no request outlives the cap.
    with_timeout = getattr(embedder, "with_timeout", None)
    fast: Embedder = with_timeout(timeout) if callable(with_timeout) else embedder

    def embed(text: str) -> QueryVector:
        started = time.perf_counter()
        future = _executor().submit(fast.embed, [text])
        try:
            vectors = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            note = f"meaning left out: the embedder did not answer within {timeout:g}s"
            return QueryVector(None, embedder.name, note)
        except EmbeddingError as error:
            return QueryVector(None, embedder.name, f"meaning left out: {error.message}")
        except Exception as exc:  # an embedder is optional: nothing it does may fail the reply
            logger.exception("query embedding failed")
            return QueryVector(None, embedder.name, f"meaning left out: {type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        return QueryVector(vectors[0] if vectors else None, embedder.name, "", elapsed)

    return embed


# --- ranking without a database (InMemoryDb) ----------------------------------------------------
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
