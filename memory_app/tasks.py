"""Background memory work. Tasks take ids, claim the work once, and call the app's agent."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from agentapp.errors import RunNotFound
from agentapp.llm import ModelError

from . import services
from .models import MemoryExtraction

logger = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 120
TIME_LIMIT = 180
MAX_RETRIES = 5
# A claim this old belongs to a worker that was killed (acks_late redelivers its task).
STALE_CLAIM = timedelta(seconds=TIME_LIMIT + 60)


class TransientMemoryError(Exception):
    """A transient model error (timeout, 429, 5xx, dropped connection): worth another try later."""


@shared_task(
    bind=True,
    name="memory.update_for_run",
    acks_late=True,
    autoretry_for=(TransientMemoryError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def memory_update_for_run(self, run_id: str) -> str:
    """The automatic memory update of one finished run, applied at most once however often it runs."""
    from agentapp.app_agent import app_agent

    try:
        if not services.memory_extraction_claim(run_id=run_id, stale_after=STALE_CLAIM):
            return "skipped"
    except RunNotFound:
        return "missing"
    State = MemoryExtraction.State
    try:
        app_agent().update_memory_for_run(run_id, raise_errors=True)
    except ModelError as error:
        if error.transient and self.request.retries < MAX_RETRIES:
            services.memory_extraction_finish(run_id=run_id, state=State.RETRYING, error=error.message)
            raise TransientMemoryError(error.message) from error
        services.memory_extraction_finish(run_id=run_id, state=State.FAILED, error=error.message)
        logger.warning("automatic memory update of run %s failed: %s", run_id, error.message)
        return "failed"
    except SoftTimeLimitExceeded:
        services.memory_extraction_finish(run_id=run_id, state=State.FAILED, error="timed out")
        return "failed"
    except Exception as exc:
        services.memory_extraction_finish(
            run_id=run_id, state=State.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    services.memory_extraction_finish(run_id=run_id, state=State.DONE)
    return "done"
