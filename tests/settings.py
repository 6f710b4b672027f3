"""Test settings: the embedded PostgreSQL server unless DATABASE_URL names another.

The embedded server of a test run keeps its data in a directory of its own, tuned for throwaway
data and removed when the run ends. The model points at an address where nothing listens, so no
test can reach a real provider; tests that need a model start `tests.fake_openai` and pass it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
os.environ["OPENAI_API_KEY"] = "sk-test-not-a-real-key"
os.environ.setdefault("AGENT_MODEL", "chat:test-model")
# DEBUG stays off, as in production; the secret a server must set, for this run and its processes.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
# Processes a test starts inherit the variable and share the run's directory (and server).
_OWN_VAR_DIR = "AGENTAPP_VAR_DIR" not in os.environ
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-test-"))

from agentapp.settings import *  # noqa: E402, F403

if _OWN_VAR_DIR:
    # Registered before the server's own exit hook, so it runs after the server has stopped.
    atexit.register(shutil.rmtree, VAR_DIR, True)  # noqa: F405
if DATABASES["default"]["ENGINE"] == "agentapp.platform.embedded_pg":  # noqa: F405
    DATABASES["default"]["EMBEDDED"].update(FAST=True, CLEANUP="delete")  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AGENT_MODEL_TIMEOUT = 5.0
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
AGENT_BACKGROUND_TASKS = "inline"  # tests that need the worker path override this
AGENT_SESSION_SUMMARIES = False  # an extra inline model request per run would eat scripted replies
AGENT_RUNS_PER_MINUTE = 0  # no rate limit; tests/security turn it on
AGENT_EMBEDDER = "none"  # recall by meaning is tested where it is meant (tests/recall), on the real models
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AGENT_KEY_CACHE_SECONDS = 0  # no listener thread holding a connection; test_key_cache.py turns it on
AGENT_HEARTBEAT_SECONDS = 0  # no heartbeat thread in the test process; tests/observability starts workers
