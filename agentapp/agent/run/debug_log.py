"""Agno's `debug_mode`: a run's steps logged at DEBUG, in Agno's words, on the `agentapp.agent.debug`
logger (the start, every message sent, each tool call, the reply and its metrics, the end), when
the run's settings ask for it.

Turning it on sets that logger to DEBUG; when logging is not configured at all (a script), a handler
writing to stderr is added, so the log is seen as Agno's is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from agentapp.llm.types import Message

from ..events import RunOutput
from ..records import RunHandle
from ..run_status import RunStatus
from ..settings import AgentSettings

logger = logging.getLogger("agentapp.agent.debug")


def _enable() -> None:
    logger.setLevel(logging.DEBUG)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("DEBUG %(message)s"))
        logger.addHandler(handler)


def run_started(settings: AgentSettings, run: RunHandle, messages: Sequence[Message]) -> None:
    """The start, and every message the model is sent."""
    if not settings.debug_mode:
        return
    _enable()
    logger.debug("*********** Agent Run Start: %s ***********", run.run_id)
    logger.debug("Agent ID: %s | Session ID: %s | User ID: %s", settings.id, run.session_id, run.user_id)
    for message in messages:
        logger.debug("============== %s ==============", message.role)
        if message.content:
            logger.debug("%s", message.content)
        for call in message.tool_calls:
            logger.debug("Tool call: %s(%s)", call.name, call.arguments)


def tool_call(settings: AgentSettings, name: str, arguments: str) -> None:
    if not settings.debug_mode:
        return
    logger.debug("Running: %s(%s)", name, arguments)


def run_ended(settings: AgentSettings, output: RunOutput) -> None:
    if not settings.debug_mode:
        return
    logger.debug("============== assistant ==============")
    logger.debug("%s", output.content)
    metrics = output.metrics
    logger.debug("**************** METRICS ****************")
    logger.debug(
        "* Tokens: input=%d, output=%d, total=%d | Duration: %.4fs | Tool calls: %d",
        metrics.input_tokens,
        metrics.output_tokens,
        metrics.total_tokens,
        metrics.duration_ms / 1000,
        metrics.tool_calls,
    )
    status = RunStatus(output.status).value
    logger.debug("*********** Agent Run End: %s (%s) ***********", output.run_id, status)
