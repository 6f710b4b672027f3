"""Settings for the observability tests' real Celery workers: the failure tests' worker settings, with
the tasks a worker sends itself (a memory's embedding) kept on the test's own queue."""

from __future__ import annotations

import os

from tests.failures.worker_settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("TEST_QUEUE", "celery")
