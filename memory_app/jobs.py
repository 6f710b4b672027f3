"""The memory work after a run, as the workers do it: the automatic memory update of one run,
applied at most once. Not a service: it runs the app's agent (services never import it)."""

from __future__ import annotations

import logging

from agentapp.agent import ModelError
from agentapp.app_agent import agent
from agentapp.errors import FollowupBusy, FollowupFailed

from . import services as memory_services

logger = logging.getLogger(__name__)


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
