"""Recall at scale: what ranking a person's memories adds to a turn with 1,000 people x 1,000 memories
(1,000,000 memories and their vectors) in the tables, for a person with 1,000 and one with 10,000.

    python bench/recall_scale.py                          # the embedded server, in a temporary directory
    python bench/recall_scale.py --people 100             # a smaller table, quicker
    DATABASE_URL=postgres://... python bench/recall_scale.py

What is timed is THE ranking's whole database side through `DjangoDb`'s storage: the newest memories
and their count, then the candidates by meaning (an exact scan of the person's vectors), words (BM25)
and recency in one statement, fused; the query's embedding is made beforehand and not timed (the
default embedder's own cost is in bench/embedders.py). Every query is a question from
bench/fixtures/conversations.json, so the words signal sees real words.

The other people's memories are made in SQL (texts drawn from a vocabulary, random 384-dimension
vectors): what they cost the person's recall is their weight in the tables and indexes, not their
meaning. The HNSW index is dropped for the load (maintaining it over a million inserts would take hours
on 2 cores) and not used: below `EXACT_MEANING_MAX` memories a person's recall scans their own rows.
"""

from __future__ import annotations

import argparse
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

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from agentapp.agent.memory.query_embedding import QueryVector  # noqa: E402
from agentapp.agent.memory.recall import RecallQuery, per_signal, recall_memories  # noqa: E402
from agentapp.db.candidates import memory_candidates, newest_memories  # noqa: E402
from agentapp.platform.database import server_description  # noqa: E402

User = get_user_model()
DIMENSIONS = 384
MODEL = "bench:random-384"
FIXTURE = ROOT / "bench" / "fixtures" / "conversations.json"
WORDS = (  # noqa: SIM905
    "family work health food travel hobby music garden dog cat sister brother daughter son partner "
    "doctor clinic hospital school office project meeting deadline manager colleague friend birthday "
    "wedding holiday flight hotel beach mountain lake river city village car bicycle train bus coffee "
    "tea wine pizza pasta salad soup allergy peanuts shellfish gluten running swimming yoga tennis chess "
    "guitar piano violin choir book novel film series podcast language spanish french japanese german "
    "money savings rent mortgage loan budget salary bonus promotion interview course exam degree"
).split()


PICK = "w[1 + (random() * (cardinality(w) - 1))::int]"  # a word of WORDS, drawn for each row


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _sql(statement: str, params: list | tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _make_people(prefix: str, count: int) -> list[int]:
    _sql(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined) SELECT '', false, %s || n, '', '', '', false, true, now() "
        "FROM generate_series(1, %s) n",
        [prefix, count],
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("pk").values_list("pk", flat=True))


def _fill(user_pks: list[int], per_person: int) -> None:
    """`per_person` memories for each person, texts drawn from WORDS, updated over the last year,
    each with a random vector."""
    _sql(
        "INSERT INTO memory_app_memory (memory_id, user_id, text, normalized_text, topics, created_at, "
        "updated_at, valid_from) SELECT 'mem_' || md5(u::text || '-' || n), u, t, lower(t), "
        "'[]'::jsonb, d, d, d "
        "FROM ("
        "SELECT u, n, now() - random() * interval '365 days' AS d, "
        f"'Person ' || u || ' ' || {PICK} || ' ' || {PICK} || ' ' || {PICK} || ' ' || {PICK} "
        "|| ' note ' || n AS t "
        "FROM unnest(%s::bigint[]) u, generate_series(1, %s) n, (SELECT %s::text[] AS w) words) made",
        [user_pks, per_person, WORDS],
    )
    _embed(user_pks)


def _embed(user_pks: list[int]) -> None:
    """A random vector for each memory of these people that has none."""
    _sql(
        "INSERT INTO memory_app_memoryembedding (memory_id, user_id, model, dimensions, vector, created_at) "
        # `0 * m.id` ties the subquery to its row, so each memory gets a vector of its own.
        "SELECT m.id, m.user_id, %s, %s, ARRAY(SELECT (random() - 0.5 + 0 * m.id)::real "
        "FROM generate_series(1, %s)), now() FROM memory_app_memory m "
        "WHERE m.user_id = ANY(%s::bigint[]) ON CONFLICT (memory_id) DO NOTHING",
        [MODEL, DIMENSIONS, DIMENSIONS, user_pks],
    )


def _load_others(people: int, per_person: int) -> None:
    started = time.perf_counter()
    _sql(f"DROP INDEX IF EXISTS memory_embedding_hnsw_{DIMENSIONS}")
    pks = _make_people("bench-scale-", people)
    for start in range(0, len(pks), 50):
        _fill(pks[start : start + 50], per_person)
        done = min(start + 50, len(pks))
        print(f"  {done * per_person:,} memories ({time.perf_counter() - started:.0f} s)", flush=True)


def _target(size: int, questions: list[str]) -> int:
    """One person with `size` memories: the fixture's facts (real sentences) first, then filler."""
    facts = [f["text"] for f in json.loads(FIXTURE.read_text())["facts"]] if FIXTURE.exists() else []
    (pk,) = _make_people(f"bench-target-{size}-", 1)
    texts = list(dict.fromkeys(facts))[:size]
    _sql(
        "INSERT INTO memory_app_memory (memory_id, user_id, text, normalized_text, topics, created_at, "
        "updated_at, valid_from) SELECT 'mem_' || md5('fact-' || %s || '-' || n), %s, t, lower(t), "
        "'[]'::jsonb, now(), now(), now() "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS f(t, n)",
        [str(pk), pk, texts],
    )
    if size > len(texts):
        _fill([pk], size - len(texts))
    else:
        _embed([pk])
    return pk


def _time_recall(user_pk: int, questions: list[str], runs: int, limit: int) -> tuple[list[float], int]:
    rng = random.Random(7)
    timings: list[float] = []
    statements = 0
    for i in range(runs + 5):  # five warm-up recalls first
        text = questions[i % len(questions)]
        vector = [rng.uniform(-0.5, 0.5) for _ in range(DIMENSIONS)]
        query = RecallQuery(text=text, limit=limit, embed=lambda _t, v=vector: QueryVector(v, MODEL))
        newest = newest_memories(user_pk=user_pk, username="")
        candidates = memory_candidates(user_pk=user_pk, username="", text=text)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            recall = recall_memories(query, newest=newest, candidates=candidates)
            elapsed = (time.perf_counter() - started) * 1000
        # Random vectors are all far from a random query: ranked by meaning all the same (the scan
        # runs), then left out below RECALL_MIN_SIMILARITY, so the strategy reads "words+recency".
        assert recall.strategy != "all" and len(recall.chosen) == limit
        if i >= 5:
            timings.append(elapsed)
            statements = max(statements, len(captured.captured_queries))
    return timings, statements


def _explain(user_pk: int, text: str, limit: int) -> None:
    vector = [random.uniform(-0.5, 0.5) for _ in range(DIMENSIONS)]
    source = memory_candidates(user_pk=user_pk, username="", text=text)
    with CaptureQueriesContext(connection) as captured:
        source(QueryVector(vector, MODEL), per_signal(limit), 10_000)
    statement = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        print("\n".join(row[0] for row in cursor.fetchall()), "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--memories", type=int, default=1000, help="per person")
    parser.add_argument("--sizes", default="1000,10000", help="the timed people's memories")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--limit", type=int, default=10, help="memories in the context")
    parser.add_argument("--explain", action="store_true", help="print the candidates statement's plan")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"server: {server_description()}")
    questions = (
        [q["text"] for q in json.loads(FIXTURE.read_text())["questions"]]
        if FIXTURE.exists()
        else ["What does she do on weekends?"]
    )
    print(f"loading {args.people:,} people x {args.memories:,} memories ...", flush=True)
    _load_others(args.people, args.memories)
    targets = {size: _target(size, questions) for size in map(int, args.sizes.split(","))}
    _sql("ANALYZE memory_app_memory; ANALYZE memory_app_memoryembedding")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM memory_app_memory")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('memory_app_memory')), "
            "pg_size_pretty(pg_total_relation_size('memory_app_memoryembedding'))"
        )
        sizes = cursor.fetchone()
    print(f"{total:,} memories in the tables (memories {sizes[0]}, vectors {sizes[1]})\n")
    print(f"limit {args.limit}, {args.runs} runs each, query embedding apart\n")
    print("| the person's memories | recall p50 ms | p95 ms | statements | tables |")
    print("|---:|---:|---:|---:|---|")
    for size, pk in targets.items():
        if args.explain:
            _explain(pk, questions[0], args.limit)
        timings, statements = _time_recall(pk, questions, args.runs, args.limit)
        print(
            f"| {size:,} | {statistics.median(timings):.1f} | {_pct(timings, 0.95):.1f} | {statements} | "
            f"among {total:,} |"
        )


if __name__ == "__main__":
    main()
