"""Memory search with 10,000 memories for one user.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/agentapp_bench2 python bench/memory_search.py
    python bench/memory_search.py            # the embedded server, in a temporary directory

Bulk-inserts --memories memories for one fresh user, then times
`memory_app.selectors.memories_search` the way the list endpoints use it: the
match count plus the first page of 50 (what `GET /api/memories?search=...`
and the memory page run). Each query kind is run --runs times per query,
round-robin, after one warm-up pass. The user is deleted at the end.
"""

from __future__ import annotations

import argparse
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

from agentapp.platform.database import server_description  # noqa: E402
from memory_app.models import Memory  # noqa: E402
from memory_app.selectors import memories_search  # noqa: E402
from memory_app.services import normalize_text  # noqa: E402

User = get_user_model()
PAGE = 50
TARGET_P95_MS = 50.0

TOPICS = ["work", "family", "food", "travel", "health", "contact", "hobbies", "projects", "pets", "music"]
SUBJECTS = [
    "prefers email over phone calls",
    "works as a backend engineer at a logistics company",
    "is allergic to peanuts and shellfish",
    "has a golden retriever named Biscuit",
    "plays the cello in a community orchestra",
    "is planning a trip to Lisbon in the spring",
    "drinks oat milk flat whites every morning",
    "runs a half marathon twice a year",
    "is learning Japanese on weekends",
    "keeps a vegetable garden with tomatoes and basil",
    "uses PostgreSQL and Django for side projects",
    "visits her parents in Porto every December",
    "reads science fiction, mostly Le Guin and Banks",
    "wants meeting notes as short bullet points",
    "is saving for an electric bicycle",
    "dislikes early morning meetings",
    "manages a team of five developers",
    "cooks a vegetarian curry on Sundays",
    "listens to jazz while working",
    "has a daughter who starts school in September",
]

# (kind, queries, topic): each query is run --runs times.
QUERY_KINDS: list[tuple[str, list[str], str]] = [
    ("single word", ["email", "cello", "marathon", "garden", "jazz"], ""),
    (
        "two words",
        ["oat milk", "science fiction", "electric bicycle", "meeting notes", "vegetable garden"],
        "",
    ),
    ("prefix", ["marat", "postg", "japan", "bisc", "orch"], ""),
    ("topic filter", [""], "travel"),
    ("topic + word", ["lisbon", "porto"], "travel"),
    ("no match", ["zzyzx", "quokka sandwich"], ""),
]


def _memories(user, count: int) -> None:
    rng = random.Random(7)
    batch = []
    for i in range(count):
        text = f"{rng.choice(SUBJECTS).capitalize()} (note {i}, {rng.choice(SUBJECTS)})"
        topics = rng.sample(TOPICS, k=rng.randint(0, 3))
        batch.append(Memory(user=user, text=text, normalized_text=normalize_text(text), topics=topics))
    Memory.objects.bulk_create(batch, batch_size=2_000)


def _search(user_pk: int, query: str, topic: str) -> int:
    memories = memories_search(user_pk=user_pk, query=query, topic=topic)
    total = memories.count()
    list(memories[:PAGE])
    return total


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    user = User.objects.create(username=f"bench-search-{int(time.time())}")
    try:
        started = time.perf_counter()
        _memories(user, args.memories)
        inserted = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE memory_app_memory")
        matches = {}
        for kind, queries, topic in QUERY_KINDS:  # warm-up, and the match counts for the table
            matches[kind] = [_search(user.pk, q, topic) for q in queries]
        timings: dict[str, list[float]] = {kind: [] for kind, _, _ in QUERY_KINDS}
        for _ in range(args.runs):
            for kind, queries, topic in QUERY_KINDS:
                for query in queries:
                    t0 = time.perf_counter()
                    _search(user.pk, query, topic)
                    timings[kind].append((time.perf_counter() - t0) * 1000)
    finally:
        user.delete()

    print(
        f"database: {server_description()}; {args.memories:,} memories for one user "
        f"(inserted in {inserted:.1f} s); count + first page of {PAGE}; {args.runs} runs per query"
    )
    print()
    print(f"| {'query kind':<14} | {'matches':>25} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} |")
    print(f"|{'-' * 16}|{'-' * 26}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|")
    every: list[float] = []
    for kind, _, _ in QUERY_KINDS:
        values = timings[kind]
        every += values
        counts = "/".join(str(n) for n in matches[kind])
        print(
            f"| {kind:<14} | {counts:>25} | {statistics.median(values):>7.2f} | "
            f"{_pct(values, 0.95):>7.2f} | {max(values):>7.2f} |"
        )
    p95 = _pct(every, 0.95)
    print(
        f"| {'overall':<14} | {'':>25} | {statistics.median(every):>7.2f} | "
        f"{p95:>7.2f} | {max(every):>7.2f} |"
    )
    print()
    verdict = "met" if p95 < TARGET_P95_MS else "NOT met"
    print(f"overall p95 {p95:.2f} ms; target p95 < {TARGET_P95_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
