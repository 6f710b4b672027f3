"""Where the tests that need a real Celery worker find Redis, or why they skip."""

from __future__ import annotations

import os

import pytest


def redis_url(default: str) -> str:
    """CI's broker (CELERY_BROKER_URL) when it is Redis, else `default` (a db number of the test's own)."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis://") else default


def redis_or_skip(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs Redis at {url} for a real Celery worker ({exc})")
