"""Background memory work: tasks take ids and call one job (memory_app.jobs, memory_app.embedding)."""

from __future__ import annotations

import logging

from celery import shared_task

from agentapp.errors import FollowupBusy, FollowupFailed

from . import embedding as memory_embedding
from . import jobs

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
# A failed attempt (FollowupFailed) is tried again with backoff, up to five minutes apart.
RETRIED: dict[str, object] = {
    "autoretry_for": (FollowupFailed,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,  # memory_app.selectors.RETRY_BACKOFF_MAX_SECONDS
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
    "soft_time_limit": 120,
    "time_limit": 180,
}


@shared_task(bind=True, name="memory.update_for_run", acks_late=True, **RETRIED)
def memory_update_for_run(self, run_id: str) -> str:
    """The automatic memory update of one finished run, applied exactly once however often it runs."""
    try:
        return jobs.memory_update(run_id, may_retry=self.request.retries < MAX_RETRIES)
    except FollowupBusy as busy:
        # Back on the same queue when the other claim expires (max_retries=None: that never gives up).
        raise self.retry(countdown=busy.retry_in + 1, max_retries=None) from busy


@shared_task(name="memory.embed", **RETRIED)
def memory_embed(memory_pks: list[int]) -> int:
    """Embed memories whose text is new (a failure is retried; the sweep catches what is left)."""
    return memory_embedding.embed_memories(memory_pks)


@shared_task(name="memory.embed_pending", soft_time_limit=120, time_limit=180)
def memory_embed_pending() -> int:
    """The sweep's part: embed what has no embedding by the current embedder (a broker that lost a
    task, a change of embedder)."""
    try:
        return memory_embedding.embed_pending()
    except FollowupFailed as error:
        logger.warning("memories not embedded (the next sweep tries again): %s", error.message)
        return 0
