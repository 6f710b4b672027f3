"""The memory editor's and the API's search box: the memories that match its words (each a prefix, as
one types) or come close in meaning, in the order of THE ranking (agentapp.agent.memory.recall), the
one the chat's context uses."""

from __future__ import annotations

from django.conf import settings
from django.db.models import IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL

from agentapp import app_agent
from agentapp.agent.memory.query_embedding import QueryVector, capped_query_embedding
from agentapp.agent.memory.recall import (
    MAX_PER_SIGNAL,
    SEARCH_MIN_SIMILARITY,
    search_order,
)
from agentapp.db.candidates import memory_candidates
from agentapp.platform import sql

from . import selectors
from .models import Memory


def search_embedding(text: str) -> QueryVector | None:
    """A search box's query embedded (capped like a turn's), for ranking by meaning; None without one."""
    embedder = app_agent.recall_embedder()
    if embedder is None or not text.strip():
        return None
    return capped_query_embedding(embedder, timeout=settings.AGENT_EMBED_TIMEOUT)(text)


def memory_search(*, user_pk: int, query: str, topic: str = "", mode: str = "hybrid") -> QuerySet[Memory]:
    """By meaning and words ("hybrid", where an embedder is configured) or by words alone ("words");
    newest first without a query."""
    query = query.strip()
    memories = selectors.memories_filter_topic(selectors.memories_active(user_pk=user_pk), topic)
    if not query:
        return memories
    found = search_embedding(query) if mode != "words" else None
    vector = found if found is not None and found.vector is not None else None
    matching = Q(pk__in=selectors.memories_matching(memories, query).values("pk"))
    if vector is not None:
        alike = selectors.memories_alike(
            user_pk=user_pk,
            vector=vector.vector or [],
            model=vector.model,
            min_similarity=SEARCH_MIN_SIMILARITY,
        )
        matching |= Q(pk__in=alike)
    matches = list(memories.filter(matching).values_list("memory_id", flat=True))
    if not matches:
        return memories.none()
    total = selectors.memories_active(user_pk=user_pk).count()
    candidates = memory_candidates(user_pk=user_pk, username="", text=query)
    order = search_order(candidates(vector, MAX_PER_SIGNAL, total), matches)
    position = RawSQL(
        f"array_position(%s::text[], {sql.table(Memory)}.memory_id)", [order], output_field=IntegerField()
    )
    return memories.filter(memory_id__in=order).annotate(relevance=position).order_by("relevance")
