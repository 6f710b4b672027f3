"""Every memory gets an embedding off the reply path, a new one when its text changes, and a new one
when the embedder changes; `manage.py memories_embed` backfills and can be stopped and resumed."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import CommandError, call_command

from agentapp import app_agent
from agentapp.agent.memory.query_embedding import vector_model
from memory_app import embedding as memory_embedding
from memory_app import services
from memory_app.models import Memory, MemoryEmbedding
from tests.fake_openai import fake_embedding
from tests.recall.conftest import FAKE_STORED
from tests.redis_support import redis_worker

pytestmark = pytest.mark.django_db


def create(user, text: str, capture) -> Memory:
    with capture(execute=True):
        memory, _ = services.memory_create(user_pk=user.pk, text=text, actor="person")
    return memory


def test_a_new_memory_is_embedded_once_its_write_commits(
    fake_embedder, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        memory, _ = services.memory_create(user_pk=alice.pk, text="Alice rides a red bike", actor="person")
        assert not MemoryEmbedding.objects.exists()  # nothing inside the write itself
    assert fake_embedder.embedding_requests == []
    for callback in pending:
        callback()

    row = MemoryEmbedding.objects.get(memory=memory)
    # Of the text with the person's own name (alice) said as "the person", as in their messages.
    assert fake_embedder.embedded_texts() == ["the person rides a red bike"]
    assert (row.model, row.dimensions, row.user_id) == (FAKE_STORED, 64, alice.pk)
    assert row.vector == pytest.approx(fake_embedding("the person rides a red bike"), abs=1e-6)


def test_a_changed_text_is_embedded_again_and_topics_alone_are_not(
    fake_embedder, alice, django_capture_on_commit_callbacks
):
    memory = create(alice, "Alice rides a red bike", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.memory_update(memory=memory, topics=["sport"], actor="person")
    assert fake_embedder.embedded_texts() == ["the person rides a red bike"]

    with django_capture_on_commit_callbacks(execute=True):
        services.memory_update(memory=memory, text="Alice rides a blue bike", actor="person")

    assert fake_embedder.embedded_texts()[-1] == "the person rides a blue bike"
    row = MemoryEmbedding.objects.get(memory=memory)
    assert row.vector == pytest.approx(fake_embedding("the person rides a blue bike"), abs=1e-6)


def test_a_deleted_memory_loses_its_embedding_and_a_restored_one_gets_it_back(
    fake_embedder, alice, django_capture_on_commit_callbacks
):
    memory = create(alice, "Alice rides a red bike", django_capture_on_commit_callbacks)
    services.memory_delete(memory=memory, actor="person")
    assert not MemoryEmbedding.objects.filter(memory=memory).exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.memory_restore(memory=memory, actor="person")

    assert MemoryEmbedding.objects.filter(memory=memory, model=FAKE_STORED).exists()


def test_an_embedder_down_fails_no_write_and_the_sweep_embeds_later(
    fake_embedder, alice, django_capture_on_commit_callbacks
):
    for _ in range(3):  # the SDK's two retries too
        fake_embedder.embedding_fault(status=500, error="down")
    memory = create(alice, "Alice rides a red bike", django_capture_on_commit_callbacks)
    assert Memory.objects.filter(pk=memory.pk).exists() and not MemoryEmbedding.objects.exists()

    assert memory_embedding.embed_pending() == 1

    assert MemoryEmbedding.objects.filter(memory=memory).exists()


def test_a_change_of_embedder_model_is_detected_and_everything_re_embedded(
    fake_embedder, alice, django_capture_on_commit_callbacks, settings
):
    memories = [create(alice, f"Alice fact {i}", django_capture_on_commit_callbacks) for i in range(3)]
    settings.AGENT_EMBEDDER = "openai:another-model"
    app_agent.configured_embedder.cache_clear()

    assert memory_embedding.embed_pending() == 3

    assert set(MemoryEmbedding.objects.values_list("model", flat=True)) == {
        vector_model("openai:another-model")
    }
    assert MemoryEmbedding.objects.filter(memory__in=memories).count() == 3


def test_a_change_of_dimension_is_detected_in_recall_and_re_embedded_by_the_sweep(
    fake_embedder, alice, django_capture_on_commit_callbacks, make_agent
):
    for i in range(12):
        create(alice, f"Alice likes color number {i}", django_capture_on_commit_callbacks)
    fake_embedder.embedding_dimensions = 32  # the server now answers with shorter vectors
    fake_embedder.reply(text="ok")
    agent = make_agent(
        "chat", add_memories_to_context=True, memory_context_limit=3, embedder=app_agent.recall_embedder()
    )

    output = agent.run("which color do I like?", user_id="alice")

    event = output.run_id
    from sessions_app.models import RunEvent

    recall = RunEvent.objects.get(run__run_id=event, kind="context").payload["recall"]
    assert recall["strategy"] != "hybrid" and "embedded by the current embedder yet" in recall["note"]
    assert memory_embedding.embed_pending() == 12
    assert set(MemoryEmbedding.objects.values_list("dimensions", flat=True)) == {32}
    fake_embedder.reply(text="ok")
    again = agent.run("which color do I like?", user_id="alice")
    assert (
        RunEvent.objects.get(run__run_id=again.run_id, kind="context").payload["recall"]["strategy"]
        == "hybrid"
    )


def test_memories_embed_backfills_with_progress_and_resumes_where_it_stopped(fake_embedder, alice, settings):
    settings.AGENT_EMBEDDER = "none"  # written while no embedder was configured
    app_agent.configured_embedder.cache_clear()
    texts = [f"Alice remembers thing {i}" for i in range(300)]
    Memory.objects.bulk_create(Memory(user=alice, text=t, normalized_text=t.lower()) for t in texts)
    settings.AGENT_EMBEDDER = "openai:fake-embed"
    app_agent.configured_embedder.cache_clear()
    # The probe and the first batch get through; the second batch fails (with the SDK's retries).
    fake_embedder.embedding_fault()
    fake_embedder.embedding_fault()
    for _ in range(3):
        fake_embedder.embedding_fault(status=500, error="down")

    with pytest.raises(CommandError, match="run the command again"):
        call_command("memories_embed", stdout=io.StringIO())
    assert MemoryEmbedding.objects.count() == memory_embedding.BATCH
    fake_embedder.embedding_requests.clear()

    out = io.StringIO()
    call_command("memories_embed", stdout=out)

    assert MemoryEmbedding.objects.count() == 300
    embedded = [t for t in fake_embedder.embedded_texts() if t != "dimension probe"]
    assert len(embedded) == 300 - memory_embedding.BATCH  # only those still missing
    assert "[" + "#" * 30 + "] 172/172" in out.getvalue() and "172 memories embedded" in out.getvalue()

    out = io.StringIO()
    call_command("memories_embed", stdout=out)
    assert "0 memories embedded" in out.getvalue()


def test_memories_embed_says_when_there_is_no_embedder(settings):
    app_agent.configured_embedder.cache_clear()
    with pytest.raises(CommandError, match="no embedder is configured"):
        call_command("memories_embed", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_embeds_a_new_memory(fake_embedder, alice, settings):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    with redis_worker("agentapp-embed-test", "redis://127.0.0.1:6379/12"):
        memory, _ = services.memory_create(user_pk=alice.pk, text="Alice rides a red bike", actor="api")
        deadline = time.monotonic() + 20
        while not MemoryEmbedding.objects.filter(memory=memory).exists():
            assert time.monotonic() < deadline, "the worker did not embed the memory"
            time.sleep(0.05)

    assert fake_embedder.embedded_texts() == ["the person rides a red bike"]
