"""Memory recall: does the memory a message needs reach the context, and what does finding it cost?

    python bench/memory_recall.py              # the embedded server, in a temporary directory
    python bench/memory_recall.py --tune       # also: search the fusion weights on half the questions
    DATABASE_URL=postgres://... python bench/memory_recall.py --sizes 100,1000

Needs the `local-embeddings` extra (all-MiniLM-L6-v2). Three parts:

1. hit@k on bench/fixtures/memory_recall.json (one person, 347 facts over 22 topics, 188 questions,
   70% of them sharing at most one content word with the fact they need, and distractors on every
   topic): the share of questions whose needed facts are all among the k memories each strategy puts
   in the context. Recency alone, words alone (PostgreSQL full text), meaning alone (pgvector), and
   the hybrid the Agent uses (agentapp.agent.memory.recall), at k = 5, 10, 30. The facts are stored in a
   random order, so recency is what it would be for facts with no relation to when they are asked.
2. The near-duplicate threshold on bench/fixtures/memory_duplicates.json (120 restatements, 180 hard
   negatives on the same topics): precision and recall of "the same fact" at each cosine threshold.
3. What retrieval adds to a turn at 100, 1,000 and 10,000 memories for one person (among 5,000 of
   other people): the statements a DjangoDb turn runs for its memories, p50 and p95, and the query's
   embedding on its own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")  # DEBUG stays off
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-bench-"))
os.environ["AGENT_EMBEDDER"] = "local"
os.environ.setdefault("AGENT_BACKGROUND_TASKS", "inline")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from agentapp.agent.memory.query_embedding import QueryVector, capped_query_embedding  # noqa: E402
from agentapp.agent.memory.recall import (  # noqa: E402
    MAX_PER_SIGNAL,
    NEAR_DUPLICATE_SIMILARITY,
    RRF_K,
    WEIGHTS,
    Candidate,
    RecallQuery,
    common_word_count,
    ranked_recall,
)
from agentapp.db import DjangoDb, DjangoRunHandle  # noqa: E402
from agentapp.db.candidates import memory_candidates  # noqa: E402
from agentapp.llm.embeddings import LocalEmbedder, local_embeddings_installed  # noqa: E402
from agentapp.platform.database import server_description  # noqa: E402
from memory_app import services  # noqa: E402
from memory_app.models import Memory  # noqa: E402

User = get_user_model()
FIXTURES = ROOT / "bench" / "fixtures"
KS = (5, 10, 30)
SIZES = (100, 1_000, 10_000)
OTHER_PEOPLES_MEMORIES = 5_000
CONTEXT_LIMIT = 10
TARGET_P95_MS = 15.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _store(user, texts: list[str], embedder: LocalEmbedder) -> dict[str, str]:
    """Bulk-insert memories with their embeddings; returns text -> memory_id."""
    rows = [Memory(user=user, text=t, normalized_text=services.normalize_text(t)) for t in texts]
    Memory.objects.bulk_create(rows, batch_size=2_000)
    for start in range(0, len(rows), 512):
        batch = rows[start : start + 512]
        vectors = embedder.embed([m.text for m in batch])
        services.memory_embeddings_save(
            model=embedder.name,
            vectors={m.pk: v for m, v in zip(batch, vectors, strict=True)},
            texts={m.pk: m.text for m in batch},
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE memory_app_memory; ANALYZE memory_app_memoryembedding")
    return {m.text: m.memory_id for m in rows}


# --- 1. hit@k ------------------------------------------------------------------------------------
def _candidates(user_pk: int, text: str, vector: list[float], model: str, total: int) -> list[Candidate]:
    """The candidates the storage hands THE ranking for a context (as many as it ever takes)."""
    source = memory_candidates(user_pk=user_pk, username="", text=text)
    return source(QueryVector(vector, model), MAX_PER_SIGNAL, common_word_count(total))


def _by(candidates: list[Candidate], rank: str) -> list[str]:
    ranked = [c for c in candidates if getattr(c, rank) is not None]
    return [c.memory.memory_id for c in sorted(ranked, key=lambda c: getattr(c, rank))]


def _strategies(
    candidates: list[Candidate], text: str, k: int, weights: dict[str, float], rrf_k: int = RRF_K
) -> dict[str, list[str]]:
    query = RecallQuery(text=text, limit=k)
    hybrid = ranked_recall(candidates, query, total=len(candidates), vector=None, weights=weights, k=rrf_k)
    return {
        "recency": _by(candidates, "recency_rank")[:k],
        "words": _by(candidates, "words_rank")[:k],
        "meaning": _by(candidates, "meaning_rank")[:k],
        "hybrid": list(hybrid.ids),
    }


def _hit_rates(cases, weights: dict[str, float], rrf_k: int = RRF_K) -> dict[str, dict[int, float]]:
    hits = {name: dict.fromkeys(KS, 0) for name in ("recency", "words", "meaning", "hybrid")}
    for text, needed, candidates in cases:
        for k in KS:
            for name, chosen in _strategies(candidates, text, k, weights, rrf_k).items():
                hits[name][k] += needed <= set(chosen)
    return {name: {k: 100 * n / len(cases) for k, n in by_k.items()} for name, by_k in hits.items()}


def recall_quality(embedder: LocalEmbedder, *, tune: bool) -> None:
    fixture = json.loads((FIXTURES / "memory_recall.json").read_text())
    facts = list(fixture["facts"])
    random.Random(14).shuffle(facts)  # stored in an order unrelated to the questions
    user = User.objects.create(username=f"bench-recall-{int(time.time())}")
    try:
        ids = _store(user, [f["text"] for f in facts], embedder)
        by_fact = {f["id"]: ids[f["text"]] for f in facts}
        questions = fixture["questions"]
        vectors = embedder.embed([q["text"] for q in questions])
        cases = [
            (
                q["text"],
                {by_fact[n] for n in q["needs"]},
                _candidates(user.pk, q["text"], v, embedder.name, len(facts)),
            )
            for q, v in zip(questions, vectors, strict=True)
        ]
    finally:
        user.delete()
    print(f"## 1. hit@k: {len(facts)} facts, {len(questions)} questions (bench/fixtures/memory_recall.json)")
    print()
    print("| strategy | " + " | ".join(f"hit@{k}" for k in KS) + " |")
    print("|---|" + "---:|" * len(KS))
    rates = _hit_rates(cases, WEIGHTS)
    for name, by_k in rates.items():
        print(f"| {name} | " + " | ".join(f"{by_k[k]:.1f}%" for k in KS) + " |")
    print()
    print(f"hybrid weights {WEIGHTS}; the Agent's default memory_context_limit is 50")
    best_single = max(rates["meaning"][10], rates["words"][10])
    verdict = "beats" if rates["hybrid"][10] > best_single else "does NOT beat"
    print(
        f"at k=10 the hybrid ({rates['hybrid'][10]:.1f}%) {verdict} "
        f"meaning and words alone ({best_single:.1f}%)"
    )
    if tune:
        _tune(cases)
    print()


def _tune(cases) -> None:
    """Weights and RRF k searched on the odd questions, then judged on the even ones they never saw."""
    tuning, held_out = cases[1::2], cases[0::2]
    grid = []
    for words, recency, rrf_k in itertools.product((0.1, 0.25, 0.5, 1.0), (0.0, 0.05, 0.2), (5, 20, 60)):
        weights = {"meaning": 1.0, "words": words, "recency": recency}
        tuned = _hit_rates(tuning, weights, rrf_k)["hybrid"]
        grid.append((tuned[5] + tuned[10] + tuned[30], weights, rrf_k))
    grid.sort(key=lambda item: -item[0])
    print()
    print("fusion tuned on the odd questions (sum of hit@5, @10, @30), judged on the even ones:")
    print()
    print("| words | recency | k | tuning sum | held-out hit@5 | hit@10 | hit@30 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for total, weights, rrf_k in grid[:6]:
        held = _hit_rates(held_out, weights, rrf_k)["hybrid"]
        print(
            f"| {weights['words']} | {weights['recency']} | {rrf_k} | {total:.1f} | "
            f"{held[5]:.1f}% | {held[10]:.1f}% | {held[30]:.1f}% |"
        )
    alone = _hit_rates(held_out, WEIGHTS)
    for name in ("meaning", "words"):
        by_k = alone[name]
        print(f"| ({name} alone) | | | | {by_k[5]:.1f}% | {by_k[10]:.1f}% | {by_k[30]:.1f}% |")


# --- 2. the near-duplicate threshold -------------------------------------------------------------
def duplicate_threshold(embedder: LocalEmbedder) -> None:
    pairs = json.loads((FIXTURES / "memory_duplicates.json").read_text())["pairs"]
    a = embedder.embed([p["a"] for p in pairs])
    b = embedder.embed([p["b"] for p in pairs])
    scored = [
        (sum(x * y for x, y in zip(u, v, strict=True)), p["same"])
        for u, v, p in zip(a, b, pairs, strict=True)
    ]
    same = sum(1 for _, s in scored if s)
    print(
        f"## 2. near-duplicates: {same} restatements, {len(scored) - same} hard negatives "
        "(memory_duplicates.json)"
    )
    print()
    print("| threshold | precision | recall | different facts merged |")
    print("|---:|---:|---:|---:|")
    for threshold in (0.8, 0.85, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99):
        flagged = [s for sim, s in scored if sim >= threshold]
        true = sum(flagged)
        precision = 100 * true / len(flagged) if flagged else 100.0
        mark = " (used)" if abs(threshold - NEAR_DUPLICATE_SIMILARITY) < 1e-9 else ""
        print(
            f"| {threshold:.2f}{mark} | {precision:.1f}% | {100 * true / same:.1f}% | "
            f"{len(flagged) - true} of {len(scored) - same} |"
        )
    print()


# --- 3. the cost -----------------------------------------------------------------------------------
SUBJECTS = [
    "prefers email over phone calls",
    "works as a backend engineer",
    "is allergic to shellfish",
    "has a golden retriever named Biscuit",
    "plays the cello in an orchestra",
    "is planning a trip to Lisbon",
    "drinks oat milk flat whites",
    "runs a half marathon twice a year",
    "is learning Japanese",
    "keeps a vegetable garden",
    "visits her parents in Porto",
    "reads science fiction",
    "dislikes early morning meetings",
    "manages a team of five",
    "cooks a vegetarian curry on Sundays",
]
QUERIES = [
    "What should I cook for her?",
    "Does she have any pets?",
    "Which language is she studying?",
    "How does she like to be contacted?",
    "Where is she travelling next?",
    "What music does she play?",
]


def _synthetic(n: int, seed: int, start: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        f"She {rng.choice(SUBJECTS)} (note {i}, since {rng.randint(2001, 2026)})"
        for i in range(start, start + n)
    ]


def retrieval_cost(embedder: LocalEmbedder, sizes: list[int], runs: int) -> None:
    others = User.objects.create(username=f"bench-others-{int(time.time())}")
    user = User.objects.create(username=f"bench-cost-{int(time.time())}")
    db = DjangoDb()
    embed = capped_query_embedding(embedder, timeout=10.0)
    rows = []
    try:
        _store(others, _synthetic(OTHER_PEOPLES_MEMORIES, 1), embedder)
        have = 0
        for size in sizes:
            _store(user, _synthetic(size - have, 100 + size, start=have), embedder)
            have = size
            vectors = {q: embed(q) for q in QUERIES}
            handle = DjangoRunHandle(
                run_id="bench", session_id="bench", user_id=user.username, input="", user_pk=user.pk
            )
            for q in QUERIES:  # warm-up
                db.memories_recall(
                    run=handle,
                    query=RecallQuery(text=q, limit=CONTEXT_LIMIT, embed=lambda _t, v=vectors[q]: v),
                )
            statements = set()
            for q in QUERIES:
                with CaptureQueriesContext(connection) as captured:
                    db.memories_recall(
                        run=handle,
                        query=RecallQuery(text=q, limit=CONTEXT_LIMIT, embed=lambda _t, v=vectors[q]: v),
                    )
                statements.add(len(captured.captured_queries))
            plan = _plan(captured.captured_queries[-1]["sql"])
            timings = []
            for _ in range(runs):
                for q in QUERIES:
                    query = RecallQuery(text=q, limit=CONTEXT_LIMIT, embed=lambda _t, v=vectors[q]: v)
                    t0 = time.perf_counter()
                    recall = db.memories_recall(run=handle, query=query)
                    timings.append((time.perf_counter() - t0) * 1000)
                    assert recall.strategy == "hybrid", recall
            embed_ms = []
            for _ in range(runs):
                for q in QUERIES:
                    t0 = time.perf_counter()
                    embedder.embed([q])
                    embed_ms.append((time.perf_counter() - t0) * 1000)
            rows.append((size, timings, statements, embed_ms, plan))
    finally:
        user.delete()
        others.delete()
    print(
        f"## 3. retrieval per turn, limit {CONTEXT_LIMIT}, {len(QUERIES)} queries x {runs} runs; "
        f"{OTHER_PEOPLES_MEMORIES:,} other people's memories in the tables"
    )
    print()
    print(
        "| memories | retrieval p50 ms | retrieval p95 ms | statements "
        "| query embedding p50 / p95 ms | meaning scan |"
    )
    print("|---:|---:|---:|---:|---:|---|")
    for size, timings, statements, embed_ms, plan in rows:
        print(
            f"| {size:,} | {statistics.median(timings):.2f} | {_pct(timings, 0.95):.2f} | "
            f"{'/'.join(map(str, sorted(statements)))} | "
            f"{statistics.median(embed_ms):.1f} / {_pct(embed_ms, 0.95):.1f} | {plan} |"
        )
    worst = _pct(rows[-1][1], 0.95)
    verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
    print()
    print(
        f"p95 at {rows[-1][0]:,} memories: {worst:.2f} ms besides the query embedding; "
        f"target <= {TARGET_P95_MS:.0f} ms: {verdict}"
    )


def _plan(recall_sql: str) -> str:
    """Whether the meaning part of a turn's recall statement scans the HNSW index."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + recall_sql)
        plan = " ".join(row[0] for row in cursor.fetchall())
    return "HNSW index" if "memory_embedding_hnsw" in plan else "exact (no index)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    if not local_embeddings_installed():
        sys.exit("needs the local-embeddings extra: pip install torch==2.13.0 -e '.[local-embeddings]'")
    call_command("migrate", verbosity=0)
    embedder = LocalEmbedder()
    t0 = time.perf_counter()
    embedder.embed(["warm up"])
    print(
        f"database: {server_description()}; embedder {embedder.name} "
        f"(loaded in {time.perf_counter() - t0:.1f} s)"
    )
    print()
    recall_quality(embedder, tune=args.tune)
    duplicate_threshold(embedder)
    if not args.skip_cost:
        retrieval_cost(embedder, [int(s) for s in args.sizes.split(",")], args.runs)


if __name__ == "__main__":
    main()
