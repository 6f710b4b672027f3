"""Settings for the real Celery worker process that test_worker_killed.py starts and kills.

The production settings, with an unacked message redelivered after 2 seconds instead of an hour,
so the test need not wait long for the redelivery a killed worker leaves behind.
"""

from __future__ import annotations

from agentapp.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "visibility_timeout": 2,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_BACKEND = CELERY_BROKER_URL  # noqa: F405 - so the test can wait for one task's outcome
