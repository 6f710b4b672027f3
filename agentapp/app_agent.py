"""THE app's agent: the one the chat, the API and the background tasks use, configured from settings.

It owns the work after a run. The Agent says which jobs a run needs (the automatic memory update,
the session summary, the title); here they are sent to Celery workers by task name once the run's
writes commit, or, with AGENT_BACKGROUND_TASKS=inline, left to the Agent to do before it returns.
The periodic sweep lives here too. The only place outside the runtime that builds a model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet

from agentapp.agent import Agent, FollowupJob, Followups, ModelError, RunInline
from agentapp.agent.memory_optimization import OptimizationPlan, apply_plan, optimize_memories
from agentapp.agent.recall import (
    RRF_K,
    SEARCH_MIN_SIMILARITY,
    WEIGHTS,
    QueryVector,
    capped_query_embedding,
)
from agentapp.agent.records import RunHandle
from agentapp.agent.summarizer import SummaryUpdate
from agentapp.celery import send_task
from agentapp.db import DjangoDb, meaning_search_available
from agentapp.errors import FollowupBusy, FollowupFailed
from agentapp.llm.embeddings import (
    Embedder,
    default_embedder_spec,
    embedder_from_spec,
    local_embeddings_installed,
)
from agentapp.llm.env import model_spec
from agentapp.llm.factory import model_from_spec
from agentapp.llm.types import Model
from memory_app import selectors as memory_selectors
from memory_app import services as memory_services
from memory_app.models import Memory
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.models import AgentSession

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
    """The embedder named by AGENT_EMBEDDER ("local", "openai:<model>", "none"; empty: OpenAI's small
    model with a key, the local model with the extra installed, else none), built once per process."""
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


def recall_description() -> str:
    """Which embedder recall uses, for operators: "local:all-MiniLM-L6-v2", or why none."""
    try:
        embedder = configured_embedder()
    except ValueError as error:
        return f"misconfigured ({error})"
    if embedder is None:
        return "words and recency (no embedder)"
    if not meaning_search_available():
        return f"words and recency ({embedder.name} is configured, but the database has no pgvector)"
    return embedder.name


def search_embedding(text: str) -> QueryVector | None:
    """A search box's query embedded (capped like a turn's), for ranking by meaning; None without one."""
    embedder = recall_embedder()
    if embedder is None or not text.strip():
        return None
    return capped_query_embedding(embedder, timeout=settings.AGENT_EMBED_TIMEOUT)(text)


def memory_search(*, user_pk: int, query: str, topic: str = "", mode: str = "hybrid") -> QuerySet[Memory]:
    """The memory editor's and the API's search: by meaning and words fused (mode "hybrid", where an
    embedder is configured), or by words alone ("words"); relevance order when there is a query."""
    vector = search_embedding(query) if mode != "words" else None
    return memory_selectors.memories_ranked(
        user_pk=user_pk,
        query=query,
        topic=topic,
        vector=vector.vector if vector is not None else None,
        model=vector.model if vector is not None else "",
        min_similarity=SEARCH_MIN_SIMILARITY,
        weights=(WEIGHTS["meaning"], WEIGHTS["words"]),
        rrf_k=RRF_K,
    )


# --- memory optimisation, run by operators for one person -------------------------------------------
def memories_optimize(*, owner: User, acting_user: User, actor: str, apply: bool = False) -> OptimizationPlan:
    """The merges of the person's duplicate memories the app's model suggests (the summarise
    strategy); made too with `apply`, each as a change by `acting_user`. Raises ModelError."""
    return optimize_memories(
        db=DjangoDb(acting_user=acting_user),
        model=configured_model(),
        user_id=owner.get_username(),
        apply=apply,
        actor=actor,
    )


def memories_optimize_apply(*, plan: OptimizationPlan, acting_user: User, actor: str) -> OptimizationPlan:
    """Make the merges of a plan a dry run showed, as it showed them (no second model request)."""
    return apply_plan(db=DjangoDb(acting_user=acting_user), plan=plan, actor=actor)


def is_offline_demo() -> bool:
    return bool(getattr(configured_model(), "is_offline_demo", False))


def _title_model() -> Model | None:
    """The model asked for titles, with a short timeout; none for the demo model, which has no idea
    what a title is (the first words read better)."""
    if is_offline_demo():
        return None
    return _model(min(TITLE_TIMEOUT_SECONDS, settings.AGENT_MODEL_TIMEOUT))


def agent(*, model_titles: bool = False, acting_user: User | None = None) -> Agent:
    """The app's agent, built from settings (cheap: the model is built once per process).

    `acting_user`: who starts its runs when not their owner (see DjangoDb).
    """
    return Agent(
        model=configured_model(),
        db=DjangoDb(acting_user=acting_user),
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


# --- the follow-up jobs, as the workers do them ---------------------------------------------
def summary_update(session_id: str) -> SummaryUpdate:
    """Fold the session's new runs into its summary. A transient model error raises FollowupRetry
    (the task retries with backoff); any other is logged and the summary waits for the next run."""
    the_agent = agent()
    try:
        update = the_agent.update_session_summary(session_id)
        while update.pending and not background_tasks():
            update = the_agent.update_session_summary(session_id)
    except ModelError as error:
        if error.transient:
            raise FollowupFailed(error.message, transient=True) from error
        logger.warning("summary of session %s not updated: %s", session_id, error.message)
        return SummaryUpdate()
    if update.pending:  # a long backlog (a full recompute): go on in a fresh task, each one bounded
        send_task(TASKS["summary"], session_id)
    return update


def memory_update(run_id: str, *, may_retry: bool) -> str:
    """The automatic memory update of one finished run, applied at most once however often it is asked.

    A transient model error raises FollowupFailed while retries are left (the task retries it);
    FollowupBusy says when to ask again while another claim holds it.
    """

    def update() -> None:
        try:
            agent().update_memory_for_run(run_id, raise_errors=True)
        except ModelError as error:
            raise FollowupFailed(error.message, transient=error.transient) from error

    outcome = memory_services.memory_extraction_perform(run_id=run_id, update=update, may_retry=may_retry)
    if outcome.status == "busy":
        # A worker at work (a duplicate delivery), or one killed mid-task whose claim has not expired.
        raise FollowupBusy(outcome.retry_in)
    if outcome.retry:
        raise FollowupFailed(outcome.error, transient=True)
    if outcome.status == "failed":
        logger.warning("automatic memory update of run %s failed: %s", run_id, outcome.error)
    return outcome.status


def title_session(session_id: str) -> str:
    """The title job, as a worker does it: the model's few words."""
    return agent(model_titles=True).title_session(session_id)


def summary_refresh(*, session: AgentSession, full: bool = False) -> str:
    """Bring a summary up to date now (the admin's and the API's button); `full` recomputes it from the
    beginning. "enqueued" for a worker, or "updated" here (a transient model error raises FollowupFailed)."""
    if full:
        session_services.session_summary_reset(session=session)
    if background_tasks():
        send_task(TASKS["summary"], session.session_id, on_commit=True)
        return "enqueued"
    summary_update(session.session_id)
    return "updated"


# --- the periodic sweep (Celery beat) ---------------------------------------------------------
def sweep() -> dict[str, int]:
    """End runs a dead process left running; send again the follow-ups a down broker lost; forget
    the live frames of runs that ended more than AGENT_FOLLOWUP_HORIZON_SECONDS ago."""
    stale = session_services.runs_sweep_stale(older_than=timedelta(seconds=settings.AGENT_STALE_RUN_SECONDS))
    if stale:
        logger.warning("marked %d interrupted run(s) as error", stale)
    counts = {"stale": stale}
    frames_kept = timedelta(seconds=settings.AGENT_FOLLOWUP_HORIZON_SECONDS)
    counts["frames"] = session_services.run_frames_prune(older_than=frames_kept)
    if not background_tasks():
        return counts
    window = {
        "settled_before": timedelta(seconds=settings.AGENT_FOLLOWUP_GRACE_SECONDS),
        "horizon": timedelta(seconds=settings.AGENT_FOLLOWUP_HORIZON_SECONDS),
    }
    missed: dict[FollowupJob, list[str]] = {"title": session_selectors.sessions_missing_title(**window)}
    if settings.AGENT_UPDATE_MEMORY_ON_RUN:
        missed["memory"] = memory_selectors.runs_missing_memory_update(
            **window, lease=memory_services.followup_lease()
        )
    if settings.AGENT_SESSION_SUMMARIES:
        missed["summary"] = session_selectors.sessions_behind_their_summary(**window)
    for job, ids in missed.items():
        counts[job] = sum(send_task(TASKS[job], value) for value in ids)
    return counts
