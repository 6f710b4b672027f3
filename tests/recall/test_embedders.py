"""The embedders: the OpenAI-compatible endpoint through the real SDK (the loopback server), and the
real all-MiniLM-L6-v2 where the extra is installed."""

from __future__ import annotations

import math
import os
import time

import pytest

from agentapp.agent.memory.query_embedding import capped_query_embedding
from agentapp.llm.embeddings import (
    EmbeddingError,
    LocalEmbedder,
    OpenAIEmbedder,
    default_embedder_spec,
    embedder_from_spec,
)
from tests.fake_openai import fake_embedding

from .conftest import needs_local_model


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def openai_embedder(fake_openai, **kwargs):
    kwargs.setdefault("max_retries", 0)
    return OpenAIEmbedder("fake-embed", base_url=fake_openai.base_url, api_key="sk-test", **kwargs)


def test_openai_embedder_batches_and_keeps_the_order(fake_openai):
    texts = [f"memory number {i}" for i in range(300)]

    vectors = openai_embedder(fake_openai, batch_size=128).embed(texts)

    assert len(vectors) == 300
    assert [len(r.body["input"]) for r in fake_openai.embedding_requests] == [128, 128, 44]
    assert {r.body["model"] for r in fake_openai.embedding_requests} == {"fake-embed"}
    assert vectors[7] == pytest.approx(fake_embedding("memory number 7"))
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-6) for v in vectors)


def test_openai_embedder_sends_no_empty_input_and_cuts_a_huge_one(fake_openai):
    openai_embedder(fake_openai).embed(["", "word " * 10_000])

    sent = fake_openai.embedding_requests[0].body["input"]
    assert sent[0] == " " and len(sent[1]) <= 8_000


@pytest.mark.parametrize(
    ("status", "transient", "words"),
    [(500, True, "server error"), (429, True, "rate limit"), (401, False, "rejected the API key")],
)
def test_openai_embedder_failures_are_embedding_errors(fake_openai, status, transient, words):
    fake_openai.embedding_fault(status=status, error="nope")

    with pytest.raises(EmbeddingError) as caught:
        openai_embedder(fake_openai).embed(["x"])

    assert caught.value.transient is transient
    assert words in caught.value.message and "sk-test" not in caught.value.message


def test_the_sdk_retries_a_transient_failure(fake_openai):
    fake_openai.embedding_fault(status=503, error="busy", headers={"retry-after": "0"})

    vectors = openai_embedder(fake_openai, max_retries=2).embed(["x"])

    assert len(vectors) == 1 and len(fake_openai.embedding_requests) == 2


def test_a_query_waits_at_most_the_cap_for_a_slow_embedder(fake_openai):
    fake_openai.embedding_fault(delay=3.0)
    embed = capped_query_embedding(openai_embedder(fake_openai, timeout=30.0), timeout=0.3)

    started = time.perf_counter()
    result = embed("what do I like?")

    assert result.vector is None
    assert "did not answer within 0.3s" in result.note
    assert time.perf_counter() - started < 2.5  # the cap, not the server's 3 s delay


def test_a_query_embedding_that_fails_says_why(fake_openai):
    fake_openai.embedding_fault(status=500, error="down")

    result = capped_query_embedding(openai_embedder(fake_openai), timeout=2.0)("hello")

    assert result.vector is None and "meaning left out" in result.note and "HTTP 500" in result.note


def test_specs_and_the_default():
    assert embedder_from_spec("none") is None and embedder_from_spec("") is None
    assert isinstance(embedder_from_spec("local"), LocalEmbedder)
    openai = embedder_from_spec("openai:text-embedding-3-large")
    assert isinstance(openai, OpenAIEmbedder) and openai.name == "openai:text-embedding-3-large"
    with pytest.raises(ValueError, match="AGENT_EMBEDDER"):
        embedder_from_spec("huggingface:x")
    assert default_embedder_spec(api_key="sk-x", local_installed=True) == "openai:text-embedding-3-small"
    assert default_embedder_spec(api_key=None, local_installed=True, onnx_installed=False) == "local"
    assert default_embedder_spec(api_key=None, local_installed=False, onnx_installed=False) == "none"


@needs_local_model
def test_the_local_model_ranks_a_paraphrase_above_a_shared_word():
    embedder = LocalEmbedder()
    fact, paraphrase, distractor = embedder.embed(
        [
            "Sarah is allergic to peanuts.",
            "Is there any food that could make her ill?",
            "Sarah is allergic to Monday morning meetings.",
        ]
    )
    unrelated = embedder.embed(["The train to Lyon leaves at noon."])[0]

    assert len(fact) == 384 and math.isclose(sum(x * x for x in fact), 1.0, rel_tol=1e-4)
    assert cosine(fact, paraphrase) > cosine(fact, unrelated)
    assert cosine(paraphrase, fact) > cosine(paraphrase, distractor)


@needs_local_model
def test_the_local_model_loads_once_per_process_from_the_package():
    first, second = LocalEmbedder(), LocalEmbedder()
    first.embed(["a"])

    assert LocalEmbedder.loaded() and first.load() is second.load()
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # the packaged files only, never the hub


@needs_local_model
def test_the_local_model_handles_empty_long_and_non_english_texts():
    vectors = LocalEmbedder().embed(["", "mot " * 5_000, "私は寿司が好きです", "Ich wohne in Berlin."])

    assert len(vectors) == 4 and all(len(v) == 384 for v in vectors)
    assert all(math.isfinite(x) for v in vectors for x in v)
