"""A per-user limit on starting runs: a fixed one-minute window counted in Django's cache.

The counter is one atomic `incr` on a key per user and minute, so concurrent requests (several
web workers sharing Redis) never both slip under the limit. LocMem counts per process only.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache

from agentapp.errors import RateLimited

WINDOW_SECONDS = 60
logger = logging.getLogger(__name__)


def _count(key: str) -> int:
    # add() is a no-op when the key exists; incr() is atomic on Redis and under LocMem's lock.
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
        return 1


def run_rate_limit_check(*, user: User, now: float | None = None) -> None:
    """Count one run for `user`; raise RateLimited past AGENT_RUNS_PER_MINUTE (0 turns the limit off)."""
    limit = int(getattr(settings, "AGENT_RUNS_PER_MINUTE", 0) or 0)
    if limit <= 0:
        return
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    try:
        count = _count(f"ratelimit:runs:{user.pk}:{window}")
    except Exception:  # the cache (Redis) is away: a limit must not take the product down with it
        logger.warning("run rate limit not applied: the cache is unavailable", exc_info=True)
        return
    if count > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        raise RateLimited(
            f"Too many runs: at most {limit} a minute. Try again in {retry_after} seconds.",
            retry_after=retry_after,
            detail={"limit": limit, "retry_after": retry_after},
        )
