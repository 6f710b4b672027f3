"""Embedding the memories, off the reply path: a write's new text is embedded once it commits (by a
worker, or right away where follow-ups run inline), the periodic sweep embeds whatever is missing or
was made by another embedder, and `manage.py memories_embed` backfills everything in one go.
Not a service: it asks the app's embedder and sends tasks (services never do either)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, transaction

from agentapp import app_agent
from agentapp.agent import Embedder, EmbeddingError
from agentapp.agent.memory.own_name import own_names, said_as_the_person
from agentapp.agent.memory.query_embedding import vector_model
from agentapp.celery import send_task
from agentapp.errors import FollowupFailed

from . import selectors as memory_selectors
from . import services as memory_services

logger = logging.getLogger(__name__)

EMBED_TASK = "memory.embed"
BATCH = 128
HNSW_MAX_DIMENSIONS = 2_000  # pgvector's limit for an HNSW index over `vector`
_indexed: set[int] = set()


def memories_written(sender: Any, memory_pks: Sequence[int], **kwargs: Any) -> None:
    """memory_app.signals.memory_text_changed: embed the new texts once the write commits."""
    if app_agent.recall_embedder() is None:
        return
    pks = list(memory_pks)
    if app_agent.background_tasks():
        send_task(EMBED_TASK, pks, on_commit=True)
    else:
        transaction.on_commit(lambda: embed_quietly(pks))


def embed_quietly(pks: Sequence[int]) -> None:
    """Inline: a failed embedding never fails the write that asked for it; the sweep makes it later."""
    try:
        embed_memories(pks)
    except FollowupFailed as error:
        logger.warning("memories %s not embedded yet (the sweep will retry): %s", list(pks), error.message)


def _dimensions(embedder: Embedder) -> int | None:
    return getattr(embedder, "dimensions", None)


def ensure_index(dimensions: int) -> None:
    """The HNSW index for vectors of `dimensions` (the migration made those of the two defaults)."""
    if dimensions in _indexed or dimensions > HNSW_MAX_DIMENSIONS or connection.in_atomic_block:
        return  # not inside someone's transaction: building it would lock their writes meanwhile
    with connection.cursor() as cursor:
        cursor.execute(memory_selectors.meaning_index_sql(dimensions, concurrently=True))
    _indexed.add(dimensions)


def _embed(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    try:
        return embedder.embed(texts)
    except EmbeddingError as error:
        raise FollowupFailed(error.message, transient=error.transient) from error


def _embed_batch(embedder: Embedder, rows: Sequence[tuple[int, str, str]]) -> int:
    vectors = _embed(embedder, [said_as_the_person(text, own_names(username)) for _, text, username in rows])
    if vectors:
        ensure_index(len(vectors[0]))
    return memory_services.memory_embeddings_save(
        model=vector_model(embedder.name),
        vectors={pk: vector for (pk, _, _), vector in zip(rows, vectors, strict=True)},
        texts={pk: text for pk, text, _ in rows},
    )


def embed_memories(pks: Sequence[int]) -> int:
    """Embed these memories where they still need it (live, no current embedding); how many were."""
    embedder = app_agent.recall_embedder()
    if embedder is None:
        return 0
    rows = memory_selectors.memories_without_embedding(
        model=vector_model(embedder.name), dimensions=_dimensions(embedder), limit=len(pks), pks=pks
    )
    return _embed_batch(embedder, rows) if rows else 0


def embed_pending(*, time_budget: float = 50.0, progress: Callable[[int, int], None] | None = None) -> int:
    """Embed every live memory without an embedding by the current embedder (none yet, or another
    model's or dimension's), batch by batch, each committed on its own: stopping halfway loses
    nothing, and the next call goes on from there. Returns how many were embedded."""
    embedder = app_agent.recall_embedder()
    if embedder is None:
        return 0
    # The embedder's dimension now (a server may change it without a new model name): vectors of
    # another are re-made too.
    probe = _embed(embedder, ["dimension probe"])
    dimensions = len(probe[0]) if probe else _dimensions(embedder)
    model = vector_model(embedder.name)
    total = memory_selectors.memories_without_embedding_count(model=model, dimensions=dimensions)
    done = 0
    deadline = time.monotonic() + time_budget
    last_pk = 0
    while time.monotonic() < deadline:
        rows = memory_selectors.memories_without_embedding(
            model=model, dimensions=dimensions, limit=BATCH, after_pk=last_pk
        )
        if not rows:
            break
        done += _embed_batch(embedder, rows)
        last_pk = rows[-1][0]
        if progress is not None:
            progress(min(done, total), total)
    return done
