"""A second hop for multi-hop questions, measured (issue 26): is it worth a second statement a turn?

    python bench/recall_second_hop.py        # needs the local-embeddings extra; ~3 min

"What does my sister's husband do?" needs "Alice's sister is Tessa" (found by meaning) and "Tessa's
husband Omar is a pilot", which shares no word with the question but the relation. The second hop
takes the names in the first ranking's top memories that the message does not say, asks the
storage's words signal (BM25) for them, alone or with the message, and brings what that finds into
the context in one of two ways:

- fused: a fourth RRF signal, weight w, beside meaning, words and recency;
- reserved: the last r of the 10 places go to the hop's best memories not already chosen.

Each variant is judged per kind on the two halves bench/memory_recall.py --tune uses (its split, so
"held" is what no choice here saw). The fixture and the storing are bench/memory_recall.py's.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import memory_recall as mr
from django.core.management import call_command
from django.db import connection

from agentapp.agent.memory.recall import RRF_K, WEIGHTS, RecallQuery, per_signal, ranked_recall

K = 10
NAME = re.compile(r"\b([A-Z][a-z]+)(?:'s)?\b")
NOT_NAMES = frozenset(
    [
        "The",
        "A",
        "An",
        "She",
        "He",
        "They",
        "It",
        "In",
        "On",
        "At",
        "I",
        "My",
        "We",
        "Her",
        "His",
        "Their",
        "This",
        "That",
        "When",
        "After",
        "Before",
        "Since",
        "Last",
        "Next",
        "Every",
    ]
)


def names_beyond(text: str, memories: list[str]) -> list[str]:
    said = {w.lower() for w in re.findall(r"\w+", text)}
    out: list[str] = []
    for memory in memories:
        for match in NAME.finditer(memory):
            name = match.group(1)
            if name not in NOT_NAMES and name.lower() not in said and name not in out:
                out.append(name)
    return out


def main() -> None:
    call_command("migrate", verbosity=0)
    embedder = mr.LocalEmbedder()
    fixture = mr._load_conversations()
    stamp, users, ids, cases, hops = int(time.time()), [], {}, [], {}
    try:
        for person in fixture["people"]:
            user = mr.User.objects.create(username=f"bench-hop-{person['key']}-{stamp}")
            users.append(user)
            ids |= mr._store_learned(
                user, [f for f in fixture["facts"] if f["person"] == person["key"]], embedder
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE memory_app_memory; ANALYZE memory_app_memoryembedding")
        for person, user in zip(fixture["people"], users, strict=True):
            total = sum(1 for f in fixture["facts"] if f["person"] == person["key"])
            questions = [q for q in fixture["questions"] if q["person"] == person["key"]]
            needs = [{ids[n] for n in q["needs"]} for q in questions]
            found = mr._cases(
                user, questions, needs, embedder, total, person=person["key"], force_index=False
            )
            for case in found:
                first = mr._hybrid(case, K, WEIGHTS, RRF_K)
                texts = {c.memory.stored_id: c.memory.memory for c in case.candidates[per_signal(30)]}
                for top in (1, 2, 3):
                    names = names_beyond(case.text, [texts[i] for i in first[:top]])
                    for mode in ("names", "names + message"):
                        text = " ".join(names) if mode == "names" else f"{case.text} {' '.join(names)}"
                        got = (
                            mr._candidates(user.pk, text, None, embedder.name, per_signal(K), total)
                            if names
                            else []
                        )
                        ranked = sorted((c.words_rank, c.memory.stored_id) for c in got if c.words_rank)
                        hops[(id(case), top, mode)] = [mid for _, mid in ranked]
            cases += found
    finally:
        for user in users:
            user.delete()

    def fused(case, hop: list[str], w: float) -> list[str]:
        found = case.candidates[per_signal(K)]
        base = ranked_recall(
            found, RecallQuery(text=case.text, limit=len(found)), total=case.total, vector=None
        )
        score = {r.memory.stored_id: r.score for r in base.chosen}
        for rank, mid in enumerate(hop, start=1):
            score[mid] = score.get(mid, 0.0) + w / (RRF_K + rank)
        return [mid for mid, _ in sorted(score.items(), key=lambda x: -x[1])][:K]

    def reserved(case, hop: list[str], r: int) -> list[str]:
        first = mr._hybrid(case, K, WEIGHTS, RRF_K)
        out = first[: K - r] + [mid for mid in hop if mid not in first[: K - r]][:r]
        return (out + [mid for mid in first[K - r :] if mid not in out])[:K]

    tune, held = mr._split(cases)
    print(f"hit@{K} in %, per kind: {' / '.join(mr.KINDS)} / all")
    for label, half in (("tuning half", tune), ("held-back half", held)):
        print(f"\n{label} ({len(half)} questions)")
        rows = [("no second hop", lambda c: mr._hybrid(c, K, WEIGHTS, RRF_K))]
        for top in (1, 2, 3):
            for mode in ("names", "names + message"):
                for w in (0.25, 0.5, 1.0):
                    rows.append(
                        (
                            f"top {top}, {mode}, fused w {w}",
                            lambda c, t=top, m=mode, w=w: fused(c, hops[(id(c), t, m)], w),
                        )
                    )
                for r in (1, 2):
                    rows.append(
                        (
                            f"top {top}, {mode}, {r} reserved",
                            lambda c, t=top, m=mode, r=r: reserved(c, hops[(id(c), t, m)], r),
                        )
                    )
        for name, choose in rows:
            hit, seen = Counter(), Counter()
            for case in half:
                seen[case.kind] += 1
                seen["all"] += 1
                if case.needed <= set(choose(case)):
                    hit[case.kind] += 1
                    hit["all"] += 1
            cells = " / ".join(f"{100 * hit[k] / seen[k]:.1f}" for k in (*mr.KINDS, "all"))
            print(f"| {name} | {cells} |")


if __name__ == "__main__":
    main()
