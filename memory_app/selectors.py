from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from agentapp.errors import MemoryNotFound
from agentapp.ownership import one_visible_to
from agentapp.platform import sql
from sessions_app.selectors import MISSED_BATCH, runs_settled

from .models import Memory, MemoryChange, MemoryEmbedding, MemoryExtraction, MemoryProposal


def kept_sql(alias: str = "", *, include_past: bool = False) -> str:
    """In SQL, the memories recall may give: what is true now (neither deleted nor closed, as
    Memory.objects.current()), or past facts too (not deleted)."""
    column = f"{alias}." if alias else ""
    return f"{column}deleted_at IS NULL" + ("" if include_past else f" AND {column}valid_to IS NULL")


CURRENT = kept_sql()
# The stored full-text document of each memory (a generated column, migrations/0007), with its GIN index.
SEARCH_DOCUMENT_SQL = '"memory_app_memory"."search_document"'
MAX_QUERY_WORDS = 12
RETRY_BACKOFF_MAX_SECONDS = 300  # the memory task's retry_backoff_max


def memories_active(*, user_pk: int) -> QuerySet[Memory]:
    """The person's current memories (not deleted, not closed), most recently updated first."""
    return Memory.objects.current().filter(user_id=user_pk).order_by("-updated_at", "-id")


def memories_in_time(
    *, user_pk: int, as_of: datetime | None = None, include_superseded: bool = False
) -> QuerySet[Memory]:
    """The person's memories true at `as_of`, or current ones; with `include_superseded`, every
    live one, past facts too. Most recently updated first."""
    memories = _in_time(as_of=as_of, include_superseded=include_superseded)
    return memories.filter(user_id=user_pk).order_by("-updated_at", "-id")


def _in_time(*, as_of: datetime | None, include_superseded: bool) -> QuerySet[Memory]:
    if as_of is not None:
        return Memory.objects.as_of(as_of)
    return Memory.objects.live() if include_superseded else Memory.objects.current()


def memories_for_username(*, username: str, limit: int | None = None) -> list[Memory]:
    """The active memories of the user named `username` (none for an unknown one), newest first."""
    owner = {f"user__{get_user_model().USERNAME_FIELD}": username}
    memories = (
        Memory.objects.current().filter(**owner).select_related("source_run").order_by("-updated_at", "-id")
    )
    if limit is not None:
        memories = memories[: max(0, limit)]
    return list(memories)


def user_pk_for_username(*, username: str) -> int | None:
    lookup = {get_user_model().USERNAME_FIELD: username}
    return get_user_model().objects.filter(**lookup).values_list("pk", flat=True).first()


def memories_for_context(
    *, user_pk: int, limit: int, include_past: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """The `limit` most recently updated current memories (id, text, topics, updated_at, validity)
    and how many the person has in all (past facts too with `include_past`): one statement,
    whatever that number.

    Read on every turn, so written as SQL (see agentapp.platform.sql); the order is `memories_active`'s.
    """
    table = sql.table(Memory)
    kept = kept_sql(include_past=include_past)
    # The count as an uncorrelated subquery (counted once, from the index), not count(*) OVER (),
    # which would read every row's text before the LIMIT.
    rows = sql.fetch(
        f"SELECT memory_id, text, topics, updated_at, valid_from, valid_to, "
        f"(SELECT count(*) FROM {table} WHERE user_id = %s AND {kept}) FROM {table} "
        f"WHERE user_id = %s AND {kept} ORDER BY updated_at DESC, id DESC LIMIT %s",
        [user_pk, user_pk, max(0, limit)],
    )
    total = rows[0][6] if rows else 0
    return [_recall_row(*row[:6]) for row in rows], total


def _recall_row(
    memory_id: str,
    text: str,
    topics: Any,
    updated_at: Any,
    valid_from: Any = None,
    valid_to: Any = None,
    **signals: Any,
) -> dict[str, Any]:
    return {
        "memory_id": memory_id,
        "text": text,
        "topics": sql.json_column(topics) or [],
        "updated_at": updated_at,
        "valid_from": valid_from,
        "valid_to": valid_to,
        **signals,
    }


# --- recall: the candidates by meaning, words and recency ---------------------------------------
MAX_RECALL_WORDS = 32
MAX_RECALL_TEXT = 2_000  # characters of a recall query looked at for words
# A word in this many of a person's memories is common whatever their number (each count stops here).
MAX_COMMON_COUNT = 200


def meaning_index_sql(dimensions: int, *, concurrently: bool = False) -> str:
    """The HNSW index (cosine) over the embeddings of one dimension. Must stay identical to the one in
    migrations/0006_memory_embeddings.py, and the search below must cast exactly the same way."""
    d = int(dimensions)
    return (
        f"CREATE INDEX {'CONCURRENTLY ' if concurrently else ''}IF NOT EXISTS memory_embedding_hnsw_{d} "
        "ON memory_app_memoryembedding "
        f"USING hnsw ((vector::vector({d})) vector_cosine_ops) WHERE dimensions = {d}"
    )


def recall_tsquery(text: str) -> str:
    """Any of the text's words (stemmed by to_tsquery, stop words dropped): a question shares only
    some words with the memory it needs, so no word is required."""
    words = list(dict.fromkeys(w.lower() for w in re.findall(r"[^\W_]+", text)))[:MAX_RECALL_WORDS]
    return " | ".join(words)


def _vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


# BM25's constants (Robertson's usual values) and the average length of a memory's document in
# lexemes, for its length normalisation: memories are one sentence each, so one average serves
# (measured on bench/fixtures/conversations.json: about 9).
BM25_K1 = 1.2
BM25_B = 0.75
MEMORY_LEXEMES_AVERAGE = 9.0
# Up to this many of a person's embedded memories, meaning is an exact scan of their rows (through
# the owner index); past it, the HNSW index (approximate). bench/memory_recall.py part 3 measures both.
EXACT_MEANING_MAX = 20_000


def stored_vectors() -> bool:
    """Whether each embedding is also stored as a pgvector `vector` (migrations/0010, where pgvector
    was enabled when it ran); asked once per process."""
    global _stored_vectors
    if _stored_vectors is None:
        _stored_vectors = bool(
            sql.fetch(
                "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                [MemoryEmbedding._meta.db_table, "stored_vector"],
            )
        )
    return _stored_vectors


def forget_stored_vectors() -> None:
    """After pgvector or the column is created or dropped in this process (tests)."""
    global _stored_vectors
    _stored_vectors = None


_stored_vectors: bool | None = None


def _meaning_sql(d: int, *, exact: bool, embedding: str) -> str:
    """The person's memories nearest the query vector, ranked. Exact: every one of their embedded rows
    scored (OFFSET 0 keeps the planner from the approximate index), read from the stored `vector`
    where there is one; else the HNSW index, which holds the cast."""
    stored = "e.stored_vector" if exact and stored_vectors() else f"(e.vector::vector({d}))"
    distance = f"{stored} <=> %(q)s::vector({d})"
    scored = (
        f"SELECT e.memory_id AS id, {distance} AS distance FROM {embedding} e "
        f"WHERE e.user_id = %(user)s AND e.model = %(model)s AND e.dimensions = {d}"
    )
    if exact:
        scored = f"SELECT id, distance FROM ({scored} OFFSET 0) each_one"
    return (
        "meaning AS (SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS rank FROM ("
        f"{scored} ORDER BY distance LIMIT %(n)s) nearest)"
    )


def _words_sql(memory: str, *, include_past: bool = False) -> list[str]:
    """The person's memories by BM25 over the query's words: each word's inverse document frequency
    among the person's own memories (counted up to `common`: a word in that many tells nothing and
    is left out, like their name), the word's count in the memory, the memory's length."""
    document = SEARCH_DOCUMENT_SQL.replace('"memory_app_memory".', "m.")
    live = "m.user_id = %(user)s AND " + kept_sql("m", include_past=include_past)
    return [
        "terms AS MATERIALIZED (SELECT lexeme, (SELECT count(*) FROM (SELECT 1 FROM "
        f"{memory} m WHERE {live} AND {document} @@ quote_literal(t.lexeme)::tsquery "
        "LIMIT %(common)s) hits) AS df "
        "FROM unnest(tsvector_to_array(to_tsvector('english', %(text)s))) AS t(lexeme))",
        "kept AS (SELECT lexeme, ln(1 + (%(total)s - df + 0.5) / (df + 0.5))::float8 AS idf "
        "FROM terms WHERE df > 0 AND df < %(common)s)",
        "query AS (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS q FROM kept)",
        # The query once (an InitPlan), so the matching memories are found in one pass, and each
        # one's score from its own lexemes.
        "words AS (SELECT id, score, row_number() OVER (ORDER BY score DESC, id DESC) AS rank FROM ("
        "SELECT m.id, (SELECT sum(k.idf * u.tf * (%(k1)s + 1) / (u.tf + %(k1)s * "
        f"(1 - %(b)s + %(b)s * length({document}) / %(avgdl)s))) "
        f"FROM (SELECT lexeme, coalesce(array_length(positions, 1), 1) AS tf FROM unnest({document})) u "
        "JOIN kept k ON k.lexeme = u.lexeme)::float8 AS score "
        f"FROM {memory} m WHERE {live} AND {document} @@ (SELECT q FROM query) "
        "ORDER BY score DESC LIMIT %(n)s) matched)",
    ]


def memory_recall_candidates(
    *,
    user_pk: int,
    text: str,
    vector: list[float] | None,
    model: str,
    per_signal: int,
    common: int = 1_000_000,
    total: int | None = None,
    exact: bool = True,
    include_past: bool = False,
) -> list[dict[str, Any]]:
    """The person's current memories (past facts too with `include_past`) that rank in the top
    `per_signal` by meaning (cosine similarity of their embedding by `model` to `vector`; `exact`, or
    through the approximate index), by words (BM25 over the words of `text` found in fewer than
    `common` of their `total` memories, counted when not given) or by recency, each with its rank by
    each signal. One statement; every part filtered to the person.
    """
    n = max(1, int(per_signal))
    memory, embedding = sql.table(Memory), sql.table(MemoryEmbedding)
    params: dict[str, Any] = {"user": user_pk, "n": n}
    parts: list[str] = []
    if vector:
        params |= {"q": _vector_literal(vector), "model": model}
        parts.append(_meaning_sql(len(vector), exact=exact, embedding=embedding))
    else:
        parts.append(
            "meaning AS (SELECT NULL::bigint AS id, NULL::float8 AS distance, NULL::bigint AS rank "
            "WHERE false)"
        )
    if recall_tsquery(text):
        params |= {
            "text": text[:MAX_RECALL_TEXT],
            "common": max(2, min(int(common), MAX_COMMON_COUNT)),
            "total": total if total is not None else memories_active(user_pk=user_pk).count(),
            "k1": BM25_K1,
            "b": BM25_B,
            "avgdl": MEMORY_LEXEMES_AVERAGE,
        }
        parts.extend(_words_sql(memory, include_past=include_past))
    else:
        parts.append(
            "words AS (SELECT NULL::bigint AS id, NULL::float8 AS score, NULL::bigint AS rank WHERE false)"
        )
    parts.append(
        "recent AS (SELECT id, row_number() OVER (ORDER BY updated_at DESC, id DESC) AS rank FROM ("
        f"SELECT id, updated_at FROM {memory} WHERE user_id = %(user)s "
        f"AND {kept_sql(include_past=include_past)} "
        "ORDER BY updated_at DESC, id DESC LIMIT %(n)s) newest)"
    )
    rows = sql.fetch(
        "WITH " + ", ".join(parts) + ", "
        "ranked AS (SELECT id FROM meaning UNION SELECT id FROM words UNION SELECT id FROM recent), "
        # For a message about the past, also what the ranked memories replaced (one step back each).
        + (
            f"found AS (SELECT id FROM ranked UNION SELECT p.id FROM {memory} p "
            "WHERE p.user_id = %(user)s AND p.superseded_by_id IN (SELECT id FROM ranked)) "
            if include_past
            else "found AS (SELECT id FROM ranked) "
        )
        + "SELECT m.memory_id, m.text, m.topics, m.updated_at, m.valid_from, m.valid_to, "
        f"(SELECT s.memory_id FROM {memory} s WHERE s.id = m.superseded_by_id), "
        # Meaning ranks every embedded row, past facts too (their vectors stay for questions about
        # the past): renumbered among the memories kept, which the WHERE leaves before the window.
        "CASE WHEN me.rank IS NOT NULL THEN "
        "row_number() OVER (PARTITION BY me.rank IS NULL ORDER BY me.rank) END, "
        "1 - me.distance, w.rank, w.score, r.rank "
        f"FROM {memory} m "
        "LEFT JOIN meaning me ON me.id = m.id LEFT JOIN words w ON w.id = m.id "
        "LEFT JOIN recent r ON r.id = m.id "
        # By primary key (an array, so the planner looks each up rather than scan the person's rows).
        "WHERE m.id = ANY(ARRAY(SELECT id FROM found)) AND m.user_id = %(user)s AND "
        + kept_sql("m", include_past=include_past),
        params,
    )
    signals = ("meaning_rank", "similarity", "words_rank", "words_score", "recency_rank")
    return [
        _recall_row(*row[:6], superseded_by=row[6], **dict(zip(signals, row[7:], strict=True)))
        for row in rows
    ]


def memory_nearest(*, user_pk: int, vector: list[float], model: str) -> tuple[str, float] | None:
    """The person's live memory most similar to `vector` (by `model`), with its cosine similarity:
    recall's exact scan of their embedded rows, the nearest one."""
    rows = sql.fetch(
        "WITH " + _meaning_sql(len(vector), exact=True, embedding=sql.table(MemoryEmbedding)) + " "
        f"SELECT m.memory_id, 1 - me.distance FROM meaning me JOIN {sql.table(Memory)} m ON m.id = me.id "
        "WHERE m.deleted_at IS NULL AND m.valid_to IS NULL ORDER BY me.rank LIMIT 1",
        {"user": user_pk, "q": _vector_literal(vector), "model": model, "n": 1},
    )
    return (rows[0][0], float(rows[0][1])) if rows else None


def _without_embedding(model: str, dimensions: int | None) -> QuerySet[Memory]:
    current = MemoryEmbedding.objects.filter(memory=OuterRef("pk"), model=model)
    if dimensions is not None:
        current = current.filter(dimensions=dimensions)
    return Memory.objects.filter(deleted_at__isnull=True).filter(~Exists(current))


def person_username(user_pk: int) -> str:
    return get_user_model().objects.filter(pk=user_pk).values_list("username", flat=True).first() or ""


def memories_without_embedding(
    *,
    model: str,
    dimensions: int | None,
    limit: int,
    pks: Sequence[int] | None = None,
    after_pk: int = 0,
) -> list[tuple[int, str, str]]:
    """Live memories with no embedding by `model` (of `dimensions`, when known), as (pk, text, their
    person's username) in pk order: those of `pks`, or the first `limit` after `after_pk`."""
    memories = _without_embedding(model, dimensions).filter(pk__gt=after_pk)
    if pks is not None:
        memories = memories.filter(pk__in=list(pks))
    return list(memories.order_by("pk").values_list("pk", "text", "user__username")[: max(0, limit)])


def memories_without_embedding_count(*, model: str, dimensions: int | None) -> int:
    return _without_embedding(model, dimensions).count()


def memory_get_for_user(*, memory_id: str, user_pk: int, include_deleted: bool = False) -> Memory:
    """The user's memory; another user's id is not found, exactly like an id that never existed."""
    memories = Memory.objects.filter(memory_id=memory_id, user_id=user_pk).select_related("source_run")
    if not include_deleted:
        memories = memories.filter(deleted_at__isnull=True)
    memory = memories.first()
    if memory is None:
        raise MemoryNotFound(f"memory {memory_id!r} not found")
    return memory


def memory_get_for_viewer(*, memory_id: str, viewer: User, include_deleted: bool = True) -> Memory:
    """A memory the signed-in person may see: their own, or anyone's for staff."""
    memories = Memory.objects.select_related("user", "source_run").filter(memory_id=memory_id)
    if not include_deleted:
        memories = memories.filter(deleted_at__isnull=True)
    return one_visible_to(
        memories, viewer=viewer, not_found=MemoryNotFound(f"memory {memory_id!r} not found")
    )


def memory_change_get_for_viewer(*, change_pk: int, viewer: User) -> MemoryChange:
    return one_visible_to(
        MemoryChange.objects.select_related("memory", "memory__user").filter(pk=change_pk),
        viewer=viewer,
        not_found=MemoryNotFound(f"memory change {change_pk} not found"),
    )


def _tsquery(query: str) -> str:
    # Only word characters reach to_tsquery, so its operators in the input cannot break the query;
    # each word matches as a prefix, which is what search-as-you-type needs.
    words = re.findall(r"[^\W_]+", query)[:MAX_QUERY_WORDS]
    return " & ".join(f"{word}:*" for word in words)


def memories_filter_topic(memories: QuerySet[Memory], topic: str) -> QuerySet[Memory]:
    topic = " ".join(topic.lower().split())
    if not topic:
        return memories
    return memories.filter(topics__contains=[topic])


def memories_search(*, user_pk: int, query: str = "", topic: str = "") -> QuerySet[Memory]:
    """Active memories matching `query` (PostgreSQL full text, each word a prefix), newest first."""
    return memories_matching(memories_filter_topic(memories_active(user_pk=user_pk), topic), query)


def memories_matching(memories: QuerySet[Memory], query: str) -> QuerySet[Memory]:
    query = query.strip()
    if not query:
        return memories
    tsquery = _tsquery(query)
    if not tsquery:
        return memories.none()
    document = RawSQL(SEARCH_DOCUMENT_SQL, [], output_field=SearchVectorField())
    return memories.annotate(document=document).filter(
        document=SearchQuery(tsquery, config="english", search_type="raw")
    )


SEARCH_MEANING_CANDIDATES = 200


def memories_alike(*, user_pk: int, vector: list[float], model: str, min_similarity: float) -> list[int]:
    """The person's live memories at least `min_similarity` alike in meaning to `vector` (their
    embeddings by `model`), the nearest `SEARCH_MEANING_CANDIDATES` at most, as primary keys."""
    rows = sql.fetch(
        "WITH " + _meaning_sql(len(vector), exact=True, embedding=sql.table(MemoryEmbedding)) + " "
        f"SELECT me.id FROM meaning me JOIN {sql.table(Memory)} m ON m.id = me.id "
        "WHERE m.deleted_at IS NULL AND m.valid_to IS NULL AND 1 - me.distance >= %(sim)s ORDER BY me.rank",
        {
            "user": user_pk,
            "q": _vector_literal(vector),
            "model": model,
            "n": SEARCH_MEANING_CANDIDATES,
            "sim": min_similarity,
        },
    )
    return [row[0] for row in rows]


def memory_topics(*, user_pk: int) -> list[tuple[str, int]]:
    """Each topic of the user's active memories with how many carry it; most used first."""
    counts: Counter[str] = Counter()
    for topics in memories_active(user_pk=user_pk).values_list("topics", flat=True):
        counts.update(t for t in topics or () if isinstance(t, str))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def memory_changes(*, memory: Memory) -> QuerySet[MemoryChange]:
    return (
        MemoryChange.objects.filter(memory=memory)
        .select_related("actor_user", "run", "reverts", "merge__memory")
        .prefetch_related(
            Prefetch("merged_sources", MemoryChange.objects.select_related("memory").order_by("pk"))
        )
        .order_by("-created_at", "-id")
    )


def memory_deletion(*, memory: Memory) -> MemoryChange | None:
    """The change that deleted the memory last: a deletion, or its merge into another."""
    gone = Q(action=MemoryChange.Action.DELETE) | Q(action=MemoryChange.Action.MERGE, merge__isnull=False)
    return MemoryChange.objects.filter(gone, memory=memory).order_by("-created_at", "-id").first()


def memories_export(*, user_pk: int) -> dict[str, Any]:
    """The user's memories, current and past (with when each was true and what replaced it), as a
    JSON-ready document that memories_import reads back."""
    user = get_user_model().objects.get(pk=user_pk)
    return {
        "version": 1,
        "user_id": user.get_username(),
        "memories": [
            {
                "memory_id": m.memory_id,
                "memory": m.text,
                "topics": list(m.topics),
                "created_at": m.created_at.isoformat(),
                "updated_at": m.updated_at.isoformat(),
                "valid_from": m.valid_from.isoformat(),
                "valid_to": m.valid_to.isoformat() if m.valid_to else None,
                "superseded_by": m.superseded_by.memory_id if m.superseded_by is not None else None,
            }
            for m in memories_in_time(user_pk=user_pk, include_superseded=True).select_related(
                "superseded_by"
            )
        ],
    }


def runs_missing_memory_update(
    *, settled_before: timedelta, horizon: timedelta, lease: timedelta
) -> list[str]:
    """Completed runs whose automatic memory update never started (no MemoryExtraction: the broker lost
    its task) or whose claim outlived its lease (its worker was killed): the sweep sends them again."""
    State = MemoryExtraction.State
    expired = timezone.now() - lease
    # A retry waits at most the tasks' backoff cap before its next attempt claims again.
    retry_expired = expired - timedelta(seconds=RETRY_BACKOFF_MAX_SECONDS)
    live = MemoryExtraction.objects.filter(run=OuterRef("pk")).filter(
        Q(state__in=(State.DONE, State.FAILED))
        | Q(state=State.RUNNING, claimed_at__gte=expired)
        | Q(state=State.RETRYING, claimed_at__gte=retry_expired)
    )
    missing = runs_settled(settled_before=settled_before, horizon=horizon).filter(~Exists(live))
    return list(missing.order_by("id").values_list("run_id", flat=True)[:MISSED_BATCH])


MEMORY_SORT_FIELDS = {"created_at": "created_at", "updated_at": "updated_at", "memory_id": "memory_id"}


def memories_page(
    *,
    username: str | None,
    topics: Sequence[str] = (),
    search: str = "",
    sort_by: str | None = None,
    sort_order: str = "asc",
    limit: int | None = None,
    offset: int = 0,
    as_of: datetime | None = None,
    include_superseded: bool = False,
) -> list[Memory]:
    """Current memories (one person's, or everyone's with no `username`; those true at `as_of`, or
    past ones too with `include_superseded`) carrying every topic in `topics` and matching `search`
    (full text, each word a prefix), in the order asked: oldest first unless `sort_by` says
    otherwise, as Agno's stores return them."""
    memories = _in_time(as_of=as_of, include_superseded=include_superseded).select_related(
        "user", "source_run", "superseded_by"
    )
    if username is not None:
        memories = memories.filter(**{f"user__{get_user_model().USERNAME_FIELD}": username})
    for topic in topics:
        memories = memories_filter_topic(memories, topic)
    memories = memories_matching(memories, search)
    field = MEMORY_SORT_FIELDS.get(sort_by or "created_at", "created_at")
    descending = sort_order.lower() == "desc"
    memories = memories.order_by(f"-{field}" if descending else field, "-id" if descending else "id")
    end = None if limit is None else offset + max(0, limit)
    return list(memories[max(0, offset) : end])


def memory_topics_all(*, username: str | None = None) -> list[str]:
    """Every topic of the current memories (one person's, or everyone's), sorted."""
    memories = Memory.objects.current()
    if username is not None:
        memories = memories.filter(**{f"user__{get_user_model().USERNAME_FIELD}": username})
    found: set[str] = set()
    for topics in memories.values_list("topics", flat=True):
        found.update(t for t in topics or () if isinstance(t, str))
    return sorted(found)


def memory_stats_by_user(*, limit: int | None = None, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Per person with memories: how many are active and when the last one changed, the most
    recently changed first; and how many people that is."""
    name = f"user__{get_user_model().USERNAME_FIELD}"
    rows = (
        Memory.objects.current()
        .values(name)
        .annotate(total_memories=Count("id"), last_memory_updated_at=Max("updated_at"))
        .order_by("-last_memory_updated_at")
    )
    total = rows.count()
    end = None if limit is None else offset + max(0, limit)
    page = [
        {
            "user_id": row[name],
            "total_memories": row["total_memories"],
            "last_memory_updated_at": row["last_memory_updated_at"],
        }
        for row in rows[max(0, offset) : end]
    ]
    return page, total


def memory_live_get(*, memory_id: str) -> Memory | None:
    """The live memory `memory_id`, whoever's it is (the caller decides who may have it)."""
    return (
        Memory.objects.select_related("user", "source_run")
        .filter(memory_id=memory_id, deleted_at__isnull=True)
        .first()
    )


# --- facts over time, for the editor ----------------------------------------------------------
MAX_EARLIER_VERSIONS = 50
CLOSING = (MemoryChange.Action.SUPERSEDE, MemoryChange.Action.EXPIRE)


def memories_past(*, user_pk: int, query: str = "", topic: str = "") -> QuerySet[Memory]:
    """The person's closed memories (superseded or no longer true, not deleted) matching `query`
    (full text) and `topic`, the most recently closed first, each with what replaced it."""
    closed = Memory.objects.live().filter(user_id=user_pk, valid_to__isnull=False)
    memories = memories_matching(memories_filter_topic(closed, topic), query)
    return memories.select_related("superseded_by").order_by("-valid_to", "-id")


def memory_closing_change(*, memory: Memory) -> MemoryChange | None:
    """The change that closed the memory last (a supersession or an expiry), or None if it is current."""
    if memory.valid_to is None:
        return None
    return (
        MemoryChange.objects.filter(memory=memory, action__in=CLOSING)
        .select_related("actor_user", "run")
        .order_by("-created_at", "-id")
        .first()
    )


def memory_earlier_versions(*, memory: Memory) -> list[tuple[Memory, MemoryChange | None]]:
    """What `memory` replaced, walking `supersedes` back (the nearest first, at most
    MAX_EARLIER_VERSIONS), each with the supersession that closed it (who or what replaced it, in
    which run)."""
    closing = Prefetch(
        "changes",
        MemoryChange.objects.filter(action=MemoryChange.Action.SUPERSEDE)
        .select_related("actor_user", "run")
        .order_by("-created_at", "-id"),
        to_attr="closings",
    )
    found: list[tuple[Memory, MemoryChange | None]] = []
    seen = {memory.pk}
    frontier = [memory.pk]
    while frontier and len(found) < MAX_EARLIER_VERSIONS:
        older = list(
            Memory.objects.filter(superseded_by_id__in=frontier, user_id=memory.user_id)
            .exclude(pk__in=seen)
            .select_related("superseded_by")
            .prefetch_related(closing)
            .order_by("-valid_to", "-id")[: MAX_EARLIER_VERSIONS - len(found)]
        )
        for old in older:
            seen.add(old.pk)
            changes = getattr(old, "closings", [])
            found.append((old, changes[0] if changes else None))
        frontier = [old.pk for old in older]
    return found


def memory_last_change(*, memory: Memory, action: str) -> MemoryChange | None:
    """The memory's latest change of `action` (what an Undo right after it reverts)."""
    return MemoryChange.objects.filter(memory=memory, action=action).order_by("-created_at", "-id").first()


# --- memories proposed for the person's review ---------------------------------------------------
def proposals_for_user(
    *, user_pk: int, state: str = MemoryProposal.State.PROPOSED, query: str = "", topic: str = ""
) -> QuerySet[MemoryProposal]:
    """The person's proposals in `state`: the waiting ones the newest first, the decided ones the
    most recently decided first; `query` matches words of the text, `topic` one of the topics."""
    proposals = MemoryProposal.objects.filter(user_id=user_pk, state=state)
    for word in query.split()[:MAX_QUERY_WORDS]:
        proposals = proposals.filter(text__icontains=word)
    if topic := " ".join(topic.lower().split()):
        proposals = proposals.filter(topics__contains=[topic])
    order = ("-created_at", "-id") if state == MemoryProposal.State.PROPOSED else ("-decided_at", "-id")
    return proposals.select_related("user", "target", "source_run", "kept_as").order_by(*order)


def proposal_get_for_viewer(*, proposal_id: str, viewer: User) -> MemoryProposal:
    """A proposal the signed-in person may see: their own, or anyone's for staff; any other is not
    found, exactly like an id that never existed."""
    return one_visible_to(
        MemoryProposal.objects.select_related("user", "target", "source_run", "kept_as").filter(
            proposal_id=proposal_id
        ),
        viewer=viewer,
        not_found=MemoryNotFound(f"proposed memory {proposal_id!r} not found"),
    )
