"""A message's embedding for recall, asked with a cap: an embedder that is down, slow, rate limited or
still loading never holds a reply longer than the cap."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from agentapp.llm.embeddings import Embedder, EmbeddingError

logger = logging.getLogger(__name__)

# Stored vectors are of the text with the person's name said one way (own_name.py): the embedder's
# name with this mark, so that vectors made before (of the text as written) are re-made by the
# embedding sweep, as after any change of embedder, instead of being compared with other queries.
TEXT_FORM = "name-as-person"


def vector_model(embedder_name: str) -> str:
    """What a stored vector's `model` says: the embedder, and the form of the text it embedded."""
    return f"{embedder_name}#{TEXT_FORM}"


QUERY_EMBED_TIMEOUT = 1.0  # seconds a turn waits for its query's embedding before recalling without it


@dataclass(frozen=True)
class QueryVector:
    """A query's embedding, or why there is none (`note`)."""

    vector: list[float] | None
    model: str = ""
    note: str = ""
    elapsed_ms: float = 0.0


QueryEmbedding = Callable[[str], QueryVector]


_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-embed")
        return _pool


def capped_query_embedding(embedder: Embedder, *, timeout: float = QUERY_EMBED_TIMEOUT) -> QueryEmbedding:
    """Embeds a query on a worker thread and waits at most `timeout` seconds: an embedder that is down,
    slow, rate limited or still loading never holds a reply longer (the turn recalls without meaning,
    and says so). A local model still loading goes on loading meanwhile, for the turns after."""

    # An HTTP embedder is asked with a matching timeout and no retries, so no request outlives the cap.
    with_timeout = getattr(embedder, "with_timeout", None)
    fast: Embedder = with_timeout(timeout) if callable(with_timeout) else embedder
    model = vector_model(embedder.name)

    def embed(text: str) -> QueryVector:
        started = time.perf_counter()
        future = _executor().submit(fast.embed, [text])
        try:
            vectors = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            note = f"meaning left out: the embedder did not answer within {timeout:g}s"
            return QueryVector(None, model, note)
        except EmbeddingError as error:
            return QueryVector(None, model, f"meaning left out: {error.message}")
        except Exception as exc:  # an embedder is optional: nothing it does may fail the reply
            logger.exception("query embedding failed")
            return QueryVector(None, model, f"meaning left out: {type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        return QueryVector(vectors[0] if vectors else None, model, "", elapsed)

    return embed
