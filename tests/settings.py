"""Test settings: the embedded defaults unless DATABASE_URL / CELERY_BROKER_URL say otherwise.

The model points at an address where nothing listens, so no test can reach a
real provider; tests that need a model start `tests.fake_openai` and pass it.
"""

from __future__ import annotations

import os
import tempfile

os.environ["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
os.environ["OPENAI_API_KEY"] = "sk-test-not-a-real-key"
os.environ.setdefault("AGENT_MODEL", "chat:test-model")
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-test-"))

from agentapp.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AGENT_MODEL_TIMEOUT = 5.0
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
AGENT_BACKGROUND_TASKS = "inline"  # tests that need the worker path override this
AGENT_SESSION_SUMMARIES = False  # an extra inline model request per run would eat scripted replies
AGENT_RUNS_PER_MINUTE = 0  # no rate limit; tests/security turn it on
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: concurrent requests (the ASGI server's threads) then wait on the
    # busy timeout as in the embedded default, instead of failing with "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
