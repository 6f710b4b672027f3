"""Asking the parts outside this process whether they answer: the database, the broker (and its
queues), the model provider and the embedder. Each answer within a few seconds, never an exception."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Probe:
    ok: bool
    detail: str


DATABASE_PROBE_TIMEOUT = 1  # seconds: what readiness may wait on the database


def database_probe() -> Probe:
    """One round trip on a connection of its own, bounded by DATABASE_PROBE_TIMEOUT: not the pool's,
    which waits its whole timeout (10 s) for a connection while the database is away."""
    import psycopg
    from django.db import connection

    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in ("cursor_factory", "context", "server_side_binding", "prepare_threshold")
    }
    try:
        with psycopg.connect(**params, connect_timeout=DATABASE_PROBE_TIMEOUT, autocommit=True) as probe:
            probe.execute("SELECT 1")
        return Probe(True, "ok")
    except Exception as exc:  # refused, timed out, shutting down...
        return Probe(False, f"{type(exc).__name__}: {exc}")


def _queues() -> list[str]:
    from agentapp.celery import app

    return [app.conf.task_default_queue or "celery"]


def broker_probe() -> Probe:
    from agentapp.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
            connection.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT)
            return Probe(True, connection.as_uri())
    except Exception as exc:  # kombu's OperationalError, a refused connection, a timeout...
        return Probe(False, f"{type(exc).__name__}: {exc}")


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting in each queue the app sends to; None when the broker cannot say."""
    from agentapp.celery import app

    lengths: dict[str, int] = {}
    try:
        with app.connection_for_read(url=settings.CELERY_BROKER_URL) as connection:
            connection.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT)
            channel = connection.default_channel
            for queue in _queues():
                try:
                    _, count, _ = channel.queue_declare(queue=queue, passive=True)
                except Exception:  # a queue nothing was ever sent to does not exist yet
                    count = 0
                lengths[queue] = int(count)
    except Exception as exc:
        logger.info("queue lengths unavailable: %s", exc)
        return None
    return lengths


def model_probe() -> Probe:
    """Whether the model provider answers (its model list; no tokens spent)."""
    from agentapp import app_agent

    if app_agent.is_offline_demo():
        return Probe(True, "the offline demo model, in this process")
    import openai

    client = openai.OpenAI(
        api_key=settings.OPENAI_API_KEY or "no-key",
        base_url=settings.OPENAI_BASE_URL,
        timeout=PROBE_TIMEOUT,
        max_retries=0,
    )
    try:
        client.models.list()
    except openai.APIStatusError as exc:
        if exc.status_code in (401, 403):
            return Probe(False, f"answers, but refuses the key ({exc.status_code})")
        # A server without a model list (some OpenAI-compatible ones) still answered.
        return Probe(exc.status_code < 500, f"answers with HTTP {exc.status_code}")
    except openai.APIError as exc:
        return Probe(False, f"no answer: {type(exc).__name__}")
    finally:
        client.close()
    return Probe(True, "answers")


def recall_description() -> str:
    """Which embedder recall uses, for operators: "local:all-MiniLM-L6-v2", or why none."""
    from agentapp import app_agent
    from agentapp.db import meaning_search_available

    try:
        embedder = app_agent.configured_embedder()
    except ValueError as error:
        return f"misconfigured ({error})"
    if embedder is None:
        return "words and recency (no embedder)"
    if not meaning_search_available():
        return f"words and recency ({embedder.name} is configured, but the database has no pgvector)"
    return embedder.name


def embedder_probe() -> Probe:
    from agentapp import app_agent

    try:
        embedder = app_agent.configured_embedder()
    except ValueError as exc:
        return Probe(False, f"misconfigured: {exc}")
    if embedder is None:
        return Probe(True, "none configured: recall by words and recency")
    quick = getattr(embedder, "with_timeout", None)
    if quick is None:  # the local model runs in this process
        return Probe(True, "in this process")
    try:
        quick(PROBE_TIMEOUT).embed(["status check"])
    except Exception as exc:
        return Probe(False, f"no answer: {type(exc).__name__}: {exc}")
    return Probe(True, "answers")
