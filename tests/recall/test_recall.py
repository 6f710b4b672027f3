"""Recall through the public Agent on DjangoDb and real PostgreSQL with pgvector: which memories reach
the context, what the run records of them, and what happens when the embedder fails."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agentapp import app_agent
from agentapp.agent import InMemoryDb
from agentapp.agent.memory.recall import RecallQuery
from memory_app import selectors, services
from memory_app.models import Memory, MemoryEmbedding
from memory_app.search import memory_search
from sessions_app.models import Run
from tests.fake_openai import Reply, fake_embedding
from tests.recall.conftest import FAKE_STORED
from tests.recall.helpers import agent_with, context_event, distractors

pytestmark = pytest.mark.django_db

TARGET = "Alice is allergic to peanuts"
QUESTION = "Can I eat something with peanuts in it?"


def test_when_every_memory_fits_all_go_in_and_nothing_is_embedded(fake_embedder, alice, remember, make_agent):
    memories = remember(alice, TARGET, "Alice lives in Lyon", "Alice has a cat")
    fake_embedder.embedding_requests.clear()
    fake_embedder.reply(text="Noted.")

    output = agent_with(make_agent, memory_context_limit=5).run("hello", user_id="alice")

    assert fake_embedder.embedding_requests == []
    assert set(output.memories_used) == {m.memory_id for m in memories}
    recall = context_event(output.run_id)["recall"]
    assert recall["strategy"] == "all" and recall["total"] == 3


def test_over_the_budget_the_memory_the_message_needs_is_recalled(fake_embedder, alice, remember, make_agent):
    (target,) = remember(alice, TARGET)  # the oldest: recency alone would never bring it
    remember(alice, *distractors(40))
    fake_embedder.reply(text="Better not.")

    output = agent_with(make_agent, memory_context_limit=5).run(QUESTION, user_id="alice")

    assert output.status == "completed"
    assert len(output.memories_used) == 5 and target.memory_id in output.memories_used
    run = Run.objects.get(run_id=output.run_id)
    assert run.memories_used == output.memories_used  # the exact ids placed in the context
    system = fake_embedder.requests[-1].body["messages"][0]["content"]
    assert TARGET in system and system.count("[mem_") == 5
    recall = context_event(output.run_id)["recall"]
    assert recall["strategy"] == "hybrid" and recall["total"] == 41
    scored = {m["memory_id"]: m for m in recall["memories"]}
    assert scored[target.memory_id]["meaning_rank"] == 1 and scored[target.memory_id]["similarity"] > 0.25
    assert scored[target.memory_id]["words_rank"] == 1
    assert [m["memory_id"] for m in recall["memories"]] == output.memories_used


def test_the_token_budget_is_honoured_with_the_count(fake_embedder, alice, remember, make_agent):
    remember(alice, TARGET, *distractors(30))
    fake_embedder.reply(text="ok")

    output = agent_with(make_agent, memory_context_limit=20, memory_context_tokens=40).run(
        QUESTION, user_id="alice"
    )

    recall = context_event(output.run_id)["recall"]
    texts = {m.memory_id: m.text for m in Memory.objects.filter(user=alice)}
    used_tokens = sum(len(f"- [{mid}] {texts[mid]}") / 4 for mid in output.memories_used)
    assert 1 <= len(output.memories_used) < 20 and used_tokens <= 40 + len(output.memories_used)
    assert recall["memories"][0]["memory_id"] in output.memories_used


def test_a_memory_without_an_embedding_still_competes_by_words(fake_embedder, alice, remember, make_agent):
    (target,) = remember(alice, TARGET)
    remember(alice, *distractors(40))
    MemoryEmbedding.objects.filter(memory=target).delete()
    fake_embedder.reply(text="ok")

    output = agent_with(make_agent, memory_context_limit=5).run(QUESTION, user_id="alice")

    assert target.memory_id in output.memories_used
    scored = {m["memory_id"]: m for m in context_event(output.run_id)["recall"]["memories"]}
    assert scored[target.memory_id]["meaning_rank"] is None and scored[target.memory_id]["words_rank"] == 1


def test_another_persons_memories_are_never_ranked(fake_embedder, alice, bob, remember, make_agent):
    (bobs,) = remember(bob, "Bob is allergic to peanuts and can not eat peanuts")
    remember(alice, *distractors(40))
    fake_embedder.reply(text="ok")

    output = agent_with(make_agent, memory_context_limit=5).run("Can Bob eat peanuts?", user_id="alice")

    assert bobs.memory_id not in output.memories_used
    assert set(Memory.objects.filter(memory_id__in=output.memories_used).values_list("user", flat=True)) == {
        alice.pk
    }
    # And below the Agent: every signal of the search itself, given bob's own vector and words.
    rows = selectors.memory_recall_candidates(
        user_pk=alice.pk,
        text=bobs.text,
        vector=fake_embedding(bobs.text),
        model=FAKE_STORED,
        per_signal=1_000,
    )
    assert rows and bobs.memory_id not in {r["memory_id"] for r in rows}
    alike = selectors.memories_alike(
        user_pk=alice.pk, vector=fake_embedding(bobs.text), model=FAKE_STORED, min_similarity=0.0
    )
    assert alike and bobs.pk not in alike
    searched = memory_search(user_pk=alice.pk, query="peanuts")
    assert bobs not in searched and {m.user_id for m in searched} == {alice.pk}


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"status": 500, "error": "embedder down"}, "HTTP 500"),
        ({"status": 429, "error": "slow down", "headers": {"retry-after": "30"}}, "rate limit"),
        ({"delay": 3.0}, "did not answer within 0.5s"),
    ],
)
def test_an_embedder_that_fails_never_fails_the_reply(
    fake_embedder, app_model, alice, remember, fault, words, settings
):
    (target,) = remember(alice, TARGET)
    remember(alice, *distractors(40))
    fake_embedder.embedding_fault(**fault)
    fake_embedder.reply(text="Here is my answer.")
    settings.AGENT_EMBED_TIMEOUT = 0.5
    settings.AGENT_MEMORY_CONTEXT_LIMIT = 5

    output = app_agent.agent().run(QUESTION, user_id="alice")

    assert output.status == "completed" and output.content == "Here is my answer."
    recall = context_event(output.run_id)["recall"]
    assert recall["strategy"] == "words+recency" and words in recall["note"]
    assert target.memory_id in output.memories_used  # the words still found it


def test_the_statements_per_turn_do_not_grow_with_the_memories(fake_embedder, alice, make_agent):
    def grow_to(n: int) -> None:
        have = Memory.objects.filter(user=alice).count()
        new = [
            Memory(user=alice, text=text, normalized_text=services.normalize_text(text))
            for text in distractors(n - have, start=have)
        ]
        Memory.objects.bulk_create(new)
        services.memory_embeddings_save(
            model=FAKE_STORED,
            vectors={m.pk: fake_embedding(m.text) for m in new},
            texts={m.pk: m.text for m in new},
        )

    fake_embedder.responder = lambda request: Reply(text="ok")
    agent = agent_with(make_agent, memory_context_limit=10)
    agent.run("the first turn creates the session", user_id="alice", session_id="thread")
    counts = {}
    for n in (60, 600):
        grow_to(n)
        with CaptureQueriesContext(connection) as captured:
            output = agent.run("which hobby on weekends?", user_id="alice", session_id="thread")
        assert context_event(output.run_id)["recall"]["strategy"] == "hybrid"
        counts[n] = len(captured.captured_queries)

    assert counts[60] == counts[600]


def test_the_app_agent_uses_the_configured_embedder_and_limits(
    fake_embedder, app_model, alice, remember, settings
):
    (target,) = remember(alice, TARGET)
    remember(alice, *distractors(10))
    settings.AGENT_MEMORY_CONTEXT_LIMIT = 3
    fake_embedder.reply(text="ok")

    the_agent = app_agent.agent()
    output = the_agent.run(QUESTION, user_id="alice")

    assert the_agent.embedder is not None and the_agent.embedder.name == "openai:fake-embed"
    assert len(output.memories_used) == 3 and target.memory_id in output.memories_used


def test_without_an_embedder_recall_is_by_words_and_recency(alice, remember, make_agent, fake_openai):
    (target,) = remember(alice, TARGET)
    remember(alice, *distractors(40))
    fake_openai.reply(text="ok")

    output = make_agent("chat", add_memories_to_context=True, memory_context_limit=5).run(
        QUESTION, user_id="alice"
    )

    assert target.memory_id in output.memories_used and fake_openai.embedding_requests == []
    assert context_event(output.run_id)["recall"]["strategy"] == "words+recency"


def test_in_memory_db_recalls_by_words_and_recency_within_the_budget(fake_openai, make_model):
    from agentapp.agent import Agent

    db = InMemoryDb()
    agent = Agent(model=make_model("chat"), db=db, add_memories_to_context=True, memory_context_limit=3)
    run = db.run_begin(
        user_id="alice", session_id="s", agent_name="a", message="x", model_id="m", model_provider="p"
    )
    for text in [TARGET, *distractors(10)]:
        db.memory_add(run=run, memory=text, topics=[], actor="person")

    recall = db.memories_recall(run=run, query=RecallQuery(text=QUESTION, limit=3))

    assert len(recall.memories) == 3 and TARGET in [m.memory for m in recall.memories]
    assert recall.strategy == "words+recency"
    fake_openai.reply(text="ok")
    assert len(agent.run("hello", user_id="alice").memories_used) == 3


@pytest.mark.server_paths
def test_recall_on_this_server_uses_meaning_exactly_when_it_has_pgvector(
    fake_embedder, alice, remember, make_agent
):
    from agentapp.platform.database import pgvector_state

    (target,) = remember(alice, TARGET)
    remember(alice, *distractors(20))
    fake_embedder.reply(text="ok")

    output = agent_with(make_agent, memory_context_limit=5).run(QUESTION, user_id="alice")

    recall = context_event(output.run_id)["recall"]
    assert target.memory_id in output.memories_used
    if pgvector_state() == "enabled":
        assert recall["strategy"] == "hybrid" and MemoryEmbedding.objects.count() == 21
    else:  # no pgvector: no embedding is made or asked for, and words and recency still find it
        assert recall["strategy"] == "words+recency" and MemoryEmbedding.objects.count() == 0
        assert fake_embedder.embedding_requests == []


def test_long_non_english_and_odd_memories_are_embedded_and_recalled(
    fake_embedder, alice, remember, make_agent
):
    long_text = "Alice collects " + " ".join(f"stamp{i}" for i in range(300))
    long_text = long_text[:2_000]
    odd = remember(alice, "私は寿司が好きです", long_text, "Ünïcödé façade café naïve", "🙂🙃")
    remember(alice, *distractors(20))
    fake_embedder.reply(text="ok")

    output = agent_with(make_agent, memory_context_limit=5).run("寿司", user_id="alice")

    assert output.status == "completed"
    assert MemoryEmbedding.objects.filter(memory__in=odd).count() == 4
    recall = context_event(output.run_id)["recall"]
    assert recall["strategy"] in ("hybrid", "words+recency") and len(output.memories_used) == 5
