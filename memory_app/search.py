"""The memory editor's and the API's search box: the memories that match its words (each a prefix, as
one types) or come close in meaning, in the order of THE ranking (agentapp.agent.memory.recall), the
one the chat's context uses."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from agentapp import app_agent
from agentapp.agent.memory.own_name import own_names, said_as_the_person
from agentapp.agent.memory.query_embedding import QueryVector, capped_query_embedding
from agentapp.agent.memory.recall import (
    MAX_PER_SIGNAL,
    SEARCH_MIN_SIMILARITY,
    search_order,
)
from agentapp.db.candidates import memory_candidates
from agentapp.errors import InvalidInput
from agentapp.platform import sql

from . import selectors
from .models import Memory


def search_embedding(text: str, *, user_pk: int) -> QueryVector | None:
    """A search box's query embedded (capped like a turn's, the person's name left out as from their
    memories), for ranking by meaning; None without one."""
    embedder = app_agent.recall_embedder()
    if embedder is None or not text.strip():
        return None
    embed = capped_query_embedding(embedder, timeout=settings.AGENT_EMBED_TIMEOUT)
    return embed(said_as_the_person(text, own_names(selectors.person_username(user_pk))))


def as_of_check(*, user_pk: int, as_of: datetime) -> datetime:
    """`as_of` if one may ask what was true then: with a time zone, not in the future, not before the
    person existed. InvalidInput otherwise."""
    if timezone.is_naive(as_of):
        raise InvalidInput("as_of needs a time zone offset, e.g. 2026-03-01T09:00:00Z")
    now = timezone.now()
    if as_of > now:
        raise InvalidInput(
            f"as_of ({as_of.isoformat()}) is in the future: what is true now is the list without it",
            detail={"as_of": as_of.isoformat(), "now": now.isoformat()},
        )
    joined = get_user_model().objects.filter(pk=user_pk).values_list("date_joined", flat=True).first()
    if joined is not None and as_of < joined:
        raise InvalidInput(
            f"as_of ({as_of.isoformat()}) is before this person existed ({joined.isoformat()})",
            detail={"as_of": as_of.isoformat(), "date_joined": joined.isoformat()},
        )
    return as_of


def memories_in_time(*, user_pk: int, as_of: datetime | None, include_superseded: bool) -> QuerySet[Memory]:
    """The current memories; those true at `as_of` (checked by `as_of_check`); with
    `include_superseded`, the past ones too (with `as_of`: those that had ended by then)."""
    if as_of is None:
        return selectors.memories_in_time(user_pk=user_pk, include_superseded=include_superseded)
    as_of = as_of_check(user_pk=user_pk, as_of=as_of)
    if include_superseded:
        everything = selectors.memories_in_time(user_pk=user_pk, include_superseded=True)
        return everything.filter(valid_from__lte=as_of)
    return selectors.memories_in_time(user_pk=user_pk, as_of=as_of)


def memory_search(
    *,
    user_pk: int,
    query: str,
    topic: str = "",
    mode: str = "hybrid",
    as_of: datetime | None = None,
    include_superseded: bool = False,
) -> QuerySet[Memory]:
    """By meaning and words ("hybrid", where an embedder is configured) or by words alone ("words");
    newest first without a query. Among the current memories, or those of `as_of` and
    `include_superseded` (see `memories_in_time`): a past fact is found by its words, after the ranked
    ones (the ranking and the search by meaning know only current facts)."""
    query = query.strip()
    in_time = memories_in_time(user_pk=user_pk, as_of=as_of, include_superseded=include_superseded)
    memories = selectors.memories_filter_topic(in_time, topic)
    if not query:
        return memories
    found = search_embedding(query, user_pk=user_pk) if mode != "words" else None
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
