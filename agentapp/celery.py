"""The Celery app, and the one way the project sends a task: by its name, so no module that sends
work needs to import the module that does it."""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any

from celery import Celery, current_app
from django.db import transaction
from opentelemetry import propagate

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")

app = Celery("agentapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


class TaskSender:
    """Sends one task by name; a broker that is down is logged, never raised."""

    def __init__(
        self, name: str, countdown: float | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.countdown = countdown
        self.headers = headers

    def send(self, *args: Any) -> int:
        try:
            current_app.send_task(self.name, args=args, countdown=self.countdown, headers=self.headers)
        except Exception as exc:  # kombu's OperationalError, a timeout, a refused connection...
            logger.warning("could not enqueue %s%r (the sweep will retry): %s", self.name, args, exc)
            return 0
        return 1


def send_task(
    name: str,
    *args: Any,
    on_commit: bool = False,
    countdown: float | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Send the task `name` (its stable `name=`); a broker that is down is logged (the sweep sends
    the work again later). With on_commit, it is sent once the current transaction commits, as
    `delay_on_commit` does; with countdown, a worker runs it that many seconds later. Returns 1 when
    sent (or scheduled on commit), 0 when the broker refused it.

    The message's headers carry `headers` and the current trace context (W3C `traceparent`, when
    tracing is on), taken now rather than at commit, so the worker's span joins the sender's trace.
    """
    carried = dict(headers or {})
    propagate.inject(carried)
    sender = TaskSender(name, countdown, carried or None)
    if on_commit:
        transaction.on_commit(partial(sender.send, *args))
        return 1
    return sender.send(*args)
