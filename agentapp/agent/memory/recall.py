"""Which of a person's memories go into the context: all of them when they fit the budget, else the
best by a fusion of meaning, words and recency. Pure: a storage supplies the candidates and each
one's rank by every signal; this module decides.

Fusion is weighted reciprocal rank fusion (Cormack et al., 2009): a memory scores
sum(weight / (RRF_K + rank)) over the signals that ranked it. Ranks, not raw scores, so cosine
similarities and full-text ranks need no common scale, and a memory with no embedding yet still
competes through words and recency. One raw score decides how much words count: RRF alone gives a
weak, spurious word match at rank 1 as much as a strong one, so words weigh little unless the best
BM25 score among the candidates reaches STRONG_WORDS_SCORE (a rare name or several of the
message's words matched), when they weigh nearly as much as meaning. The weights were tuned on
bench/memory_recall.py's fixture.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..prompt import estimate_tokens, render_memories
from ..records import UserMemory
from .query_embedding import QueryEmbedding, QueryVector

# Tuned with `bench/memory_recall.py --tune`: on half the questions, the weights whose worst kind of
# question gains most over the best single signal, judged on the other half. Meaning carries most of
# it. Words add a little always, and much more ("strong_words") when the query's best BM25 score
# among the candidates reaches STRONG_WORDS_SCORE: a name or a rare phrase the memory shares with the
# message (the second hop of "what does my wife's brother do?") rather than one common word that
# happens to match. Recency breaks near ties in favour of the newer of two memories.
RRF_K = 1
WEIGHTS: dict[str, float] = {"meaning": 1.0, "words": 0.1, "strong_words": 0.75, "recency": 0.02}
# On the SQL storage's BM25 scale (k1 1.2, b 0.75, a person's own memories): one word found in a
# single memory of ~260 scores about 5.2-5.7, two such words 8 or more. Measured at 250-280 memories
# a person (bench/fixtures/conversations.json); a word's weight grows with the log of their number.
STRONG_WORDS_SCORE = 5.8
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

# A message about how things were ("where did I live before?", "what was my old job?", "do I still
# have the same car?"): English cues only, deliberately broad. A false alarm costs little (past facts
# compete, dated as past); a miss leaves the past out, as before validity existed.
_PAST = re.compile(
    r"\b(before|used to|previous(ly)?|former(ly)?|earlier|ago|originally|at first|back (then|in)"
    r"|last (year|month|week|summer|winter|spring|autumn)|old|any ?more|no longer|still|changed?"
    r"|history|past|(did|was|were|had) (i|you|we|she|he|they))\b",
    re.IGNORECASE,
)


def asks_about_past(text: str) -> bool:
    return bool(_PAST.search(text or ""))


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
    # Past facts (closed: superseded or no longer true) compete too, shown with when they were true:
    # for a message about the past (`asks_about_past`). Otherwise only what is true now.
    include_past: bool = False


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


def words_weight(candidates: Sequence[Candidate], weights: dict[str, float]) -> float:
    """The words signal's weight for one query: "words", plus "strong_words" when the best BM25 score
    among the candidates reaches STRONG_WORDS_SCORE."""
    best = max(
        (c.words_score for c in candidates if c.words_rank is not None and c.words_score is not None),
        default=0.0,
    )
    strong = weights.get("strong_words", 0.0) if best >= STRONG_WORDS_SCORE else 0.0
    return weights.get("words", 0.0) + strong


def fuse(
    candidates: Iterable[Candidate], weights: dict[str, float] | None = None, k: int = RRF_K
) -> list[Recalled]:
    """The candidates by weighted reciprocal rank fusion, best first (ties: the more recent); the
    words' weight depends on how strong the query's best words match is (`words_weight`)."""
    weights = WEIGHTS if weights is None else weights
    candidates = list(candidates)
    per_signal_weight = {
        "meaning": weights.get("meaning", 0.0),
        "words": words_weight(candidates, weights),
        "recency": weights.get("recency", 0.0),
    }
    fused: list[Recalled] = []
    for c in candidates:
        score = 0.0
        for signal, rank in (
            ("meaning", c.meaning_rank),
            ("words", c.words_rank),
            ("recency", c.recency_rank),
        ):
            if rank is not None:
                score += per_signal_weight[signal] / (k + rank)
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


def with_what_they_replaced(ranked: Sequence[Recalled]) -> list[Recalled]:
    """For a message about the past: right after each memory, the past facts it replaced (and what
    those replaced), so "where did I live before Porto?" finds Lisbon through Porto, whatever its
    own rank. A past fact ranked higher than its successor keeps its place."""
    replaced: dict[str, list[Recalled]] = {}
    for item in ranked:
        if item.memory.superseded_by is not None:
            replaced.setdefault(item.memory.superseded_by, []).append(item)
    out: list[Recalled] = []
    seen: set[str] = set()

    def place(item: Recalled) -> None:
        if item.memory.stored_id in seen:
            return
        seen.add(item.memory.stored_id)
        out.append(item)
        for earlier in replaced.get(item.memory.stored_id, ()):
            place(earlier)

    for item in ranked:
        place(item)
    return out


def _unless_too_far(candidate: Candidate) -> Candidate:
    # The nearest memories come first, so those left are still ranked 1, 2, 3... among themselves.
    if candidate.similarity is not None and candidate.similarity < RECALL_MIN_SIMILARITY:
        return dataclasses.replace(candidate, meaning_rank=None)
    return candidate


def rank(
    candidates: Iterable[Candidate], weights: dict[str, float] | None = None, k: int = RRF_K
) -> list[Recalled]:
    """THE ranking of a person's memories for a text: every caller (the context, the search box, the
    API, the memory manager's similar memories) orders by this, from candidates its storage found."""
    return fuse((_unless_too_far(c) for c in candidates), weights, k)


def ranked_recall(
    candidates: Sequence[Candidate],
    query: RecallQuery,
    *,
    total: int,
    vector: QueryVector | None,
    weights: dict[str, float] | None = None,
    k: int = RRF_K,
) -> Recall:
    ranked = rank(candidates, weights, k)
    if query.include_past:
        ranked = with_what_they_replaced(ranked)
    has_meaning = any(r.signals["meaning_rank"] is not None for r in ranked)
    has_words = any(r.signals["words_rank"] is not None for r in ranked)
    strategy: Strategy = "hybrid" if has_meaning else ("words+recency" if has_words else "recency")
    chosen = within_budget(ranked, limit=query.limit, tokens=query.tokens)
    note = vector.note if vector is not None else ""
    return Recall(
        chosen=chosen,
        strategy=strategy,
        total=total,
        note=note,
        embedding_ms=vector.elapsed_ms if vector is not None and vector.vector is not None else None,
    )


# The newest `n` of a person's memories, and how many they have in all.
NewestMemories = Callable[[int], tuple[list[UserMemory], int]]
# A storage's candidates for a text: (the query's vector, how many each signal brings, how many
# memories the person has; a storage leaves out the words in `common_word_count(total)` of them).
CandidateSource = Callable[[QueryVector | None, int, int], list[Candidate]]

# Candidates each signal brings to the fusion: enough that the fused best of a budget of `limit`
# are almost always among them (twice the budget), bounded so that one statement stays cheap.
MIN_PER_SIGNAL = 50
MAX_PER_SIGNAL = 400
NO_PGVECTOR = "meaning left out: the database has no pgvector"
NOTHING_EMBEDDED = "meaning left out: no memory of this person is embedded by the current embedder yet"


def per_signal(limit: int) -> int:
    return min(MAX_PER_SIGNAL, max(2 * limit, MIN_PER_SIGNAL))


def recall_memories(
    query: RecallQuery,
    *,
    newest: NewestMemories,
    candidates: CandidateSource,
    meaning_available: bool = True,
) -> Recall:
    """The memories for a context: all of the person's when they fit the budget (no embedding asked),
    else the best of the candidates by THE ranking. Each storage supplies only the data."""
    if query.limit <= 0:
        return NO_RECALL
    memories, total = newest(query.limit + 1)
    if total <= query.limit and fits(memories, limit=query.limit, tokens=query.tokens):
        return all_of(memories)
    vector = query.embed(query.text) if query.embed is not None and query.text.strip() else None
    if vector is not None and vector.vector is not None and not meaning_available:
        vector = QueryVector(None, vector.model, NO_PGVECTOR)
    found = candidates(vector, per_signal(query.limit), total)
    result = ranked_recall(found, query, total=total, vector=vector)
    if vector is not None and vector.vector is not None and all(c.similarity is None for c in found):
        # Embeddings of another model or dimension, or none yet: the sweep is making them.
        result = dataclasses.replace(result, note=NOTHING_EMBEDDED)
    return result


def search_order(candidates: Iterable[Candidate], matches: Sequence[str]) -> list[str]:
    """A search box's results (`matches`: memory ids, newest first) in THE ranking's order; those no
    signal ranks (a word's prefix typed so far) follow, newest first."""
    wanted = set(matches)
    ranked = [r.memory.stored_id for r in rank(candidates) if r.score > 0 and r.memory.stored_id in wanted]
    seen = set(ranked)
    return ranked + [mid for mid in matches if mid not in seen]
