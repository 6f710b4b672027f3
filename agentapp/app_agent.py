"""THE app's agent: the one the chat, the API and the background jobs use, configured from settings.

Composition only: the configured model and embedder (the only place outside the runtime that builds
them), the storage (DjangoDb), and how follow-ups leave a run. The Agent says which jobs a run needs
(the automatic memory update, the session summary, the title); here they are sent to Celery workers
by task name once the run's writes commit, or, with AGENT_BACKGROUND_TASKS=inline, left to the Agent
to do before it returns. The jobs themselves live with their rooms (sessions_app.jobs,
memory_app.jobs, memory_app.embedding), the operators' optimisation in memory_app.optimization.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Sequence
from functools import cache

from django.conf import settings
from django.contrib.auth.models import User

from agentapp.agent import Agent, FollowupJob, Followups, RunInline
from agentapp.agent.records import RunHandle
from agentapp.celery import send_task
from agentapp.db import DjangoDb, meaning_search_available
from agentapp.llm.embeddings import (
    Embedder,
    default_embedder_spec,
    embedder_from_spec,
    local_embeddings_installed,
)
from agentapp.llm.env import model_spec
from agentapp.llm.factory import model_from_spec
from agentapp.llm.types import Model

logger = logging.getLogger(__name__)

TITLE_TIMEOUT_SECONDS = 10.0
# The follow-up tasks by their stable names (each task module names itself the same).
TASKS: dict[FollowupJob, str] = {
    "memory": "memory.update_for_run",
    "summary": "sessions.summary_update",
    "title": "sessions.title_for_session",
}


def background_tasks() -> bool:
    """Whether workers do the work after a run (AGENT_BACKGROUND_TASKS=celery), read in this one place."""
    return settings.AGENT_BACKGROUND_TASKS == "celery"


class CeleryFollowups:
    """Sends every job to the workers once the run's writes commit; a broker outage is logged and
    the sweep sends the job again later."""

    def dispatch(self, *, run: RunHandle, jobs: Sequence[FollowupJob]) -> Collection[FollowupJob]:
        # For the worker's logs and metrics: whose run it follows, and when that run ended.
        headers = {
            "agentapp_run_id": run.run_id,
            "agentapp_session_id": run.session_id,
            "agentapp_user_id": run.user_id,
            "agentapp_run_ended_at": repr(time.time()),
        }
        for job in jobs:
            # The summary folds whatever its session has not summarised yet, the title names the session.
            argument = run.run_id if job == "memory" else run.session_id
            send_task(TASKS[job], argument, on_commit=True, headers=headers)
        return jobs


def followups() -> Followups:
    return CeleryFollowups() if background_tasks() else RunInline()


# --- the models --------------------------------------------------------------------------
def _model(timeout: float) -> Model:
    key, url = settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL
    spec = model_spec(settings.AGENT_MODEL, api_key=key, base_url=url)
    return model_from_spec(spec, api_key=key, base_url=url, timeout=timeout)


@cache
def configured_model() -> Model:
    """The model named by AGENT_MODEL (with OPENAI_API_KEY / OPENAI_BASE_URL), built once per process."""
    return _model(settings.AGENT_MODEL_TIMEOUT)


@cache
def configured_embedder() -> Embedder | None:
    """The embedder named by AGENT_EMBEDDER ("onnx", "local", "openai:<model>", "none"; empty: OpenAI's
    small model with a key, else the packaged ONNX model), built once per process."""
    key = settings.OPENAI_API_KEY or None
    spec = settings.AGENT_EMBEDDER or default_embedder_spec(
        api_key=key, local_installed=local_embeddings_installed()
    )
    return embedder_from_spec(
        spec,
        api_key=key,
        base_url=settings.OPENAI_BASE_URL or None,
        timeout=settings.AGENT_EMBED_BATCH_TIMEOUT,
    )


def recall_embedder() -> Embedder | None:
    """The embedder, where meaning can be searched (pgvector enabled); else None: words and recency."""
    embedder = configured_embedder()
    return embedder if embedder is not None and meaning_search_available() else None


def embedder_warm_up() -> threading.Thread:
    """Loads the configured embedder's model on a thread of its own, so the first turn after a process
    starts does not spend its query's embedding budget on loading it (and recall without meaning).
    A misconfigured or failing embedder is only logged: the turns will say why meaning is left out."""

    def warm_up() -> None:
        try:
            embedder = configured_embedder()
            load = getattr(embedder, "load", None)
            if callable(load):
                load()
        except Exception:
            logger.exception("the embedder could not be loaded ahead of the first turn")

    thread = threading.Thread(target=warm_up, name="embedder-warm-up", daemon=True)
    thread.start()
    return thread


def is_offline_demo() -> bool:
    return bool(getattr(configured_model(), "is_offline_demo", False))


def _title_model() -> Model | None:
    """The model asked for titles, with a short timeout; none for the demo model, which has no idea
    what a title is (the first words read better)."""
    if is_offline_demo():
        return None
    return _model(min(TITLE_TIMEOUT_SECONDS, settings.AGENT_MODEL_TIMEOUT))


def agent(
    *, model_titles: bool = False, acting_user: User | None = None, person: User | None = None
) -> Agent:
    """The app's agent, built from settings (cheap: the model is built once per process).

    `acting_user`: who starts its runs when not their owner; `person`: whom, if already looked up
    (see DjangoDb).
    """
    return Agent(
        model=configured_model(),
        db=DjangoDb(acting_user=acting_user, person=person),
        name="agent",
        instructions=settings.AGENT_INSTRUCTIONS or None,
        add_history_to_context=True,
        num_history_runs=settings.AGENT_NUM_HISTORY_RUNS,
        enable_agentic_memory=settings.AGENT_AGENTIC_MEMORY,
        memory_context_limit=settings.AGENT_MEMORY_CONTEXT_LIMIT,
        memory_context_tokens=settings.AGENT_MEMORY_CONTEXT_TOKENS,
        embedder=recall_embedder(),
        embed_timeout=settings.AGENT_EMBED_TIMEOUT,
        update_memory_on_run=settings.AGENT_UPDATE_MEMORY_ON_RUN,
        enable_session_summaries=settings.AGENT_SESSION_SUMMARIES,
        followups=followups(),
        # Only a worker asks the model for a title: a run that titles its session itself, before it
        # returns, uses the first words of the message instead of a second model call.
        title_model=_title_model() if model_titles else None,
    )
