"""What the runtime raises itself, whatever the storage; `agentapp.errors` builds the app's on these."""

from __future__ import annotations

from enum import Enum
from typing import Any


class AgentError(Exception):
    """Base class. `message` is safe to show to the person who caused it."""

    def __init__(self, message: str, *, detail: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(AgentError):
    """A message, id or memory the storage refuses (empty, too long, badly formed)."""


class RunIdTaken(InvalidInput):
    """`run(run_id=...)` named an id a stored run already has: run ids are never reused."""


class SessionOwnedByAnotherUser(AgentError):
    """A `session_id` that belongs to someone else: sessions are never shared between users."""


class RunNotFound(AgentError):
    pass


class SessionNotFound(AgentError):
    pass


class MemoryNotFound(AgentError):
    """A memory id that is not the run's user's (or does not exist): the two are not told apart."""


class CheckTrigger(Enum):
    """Why a hook refused a run (Agno's values)."""

    OFF_TOPIC = "off_topic"
    INPUT_NOT_ALLOWED = "input_not_allowed"
    OUTPUT_NOT_ALLOWED = "output_not_allowed"
    VALIDATION_FAILED = "validation_failed"
    PROMPT_INJECTION = "prompt_injection"
    PII_DETECTED = "pii_detected"


class CheckError(Exception):
    """A pre- or post-hook's refusal (Agno's): the run ends as an error with `message`."""

    type = "check_error"
    default_trigger = CheckTrigger.VALIDATION_FAILED

    def __init__(
        self,
        message: str,
        check_trigger: CheckTrigger | str | None = None,
        additional_data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.check_trigger = check_trigger if check_trigger is not None else self.default_trigger
        self.error_id = (
            self.check_trigger.value
            if isinstance(self.check_trigger, CheckTrigger)
            else str(self.check_trigger)
        )
        self.additional_data = additional_data


class InputCheckError(CheckError):
    """Raised by a pre-hook: the message is not to be answered."""

    type = "input_check_error"
    default_trigger = CheckTrigger.INPUT_NOT_ALLOWED


class OutputCheckError(CheckError):
    """Raised by a post-hook: the reply is not to stand."""

    type = "output_check_error"
    default_trigger = CheckTrigger.OUTPUT_NOT_ALLOWED


class StorageUnavailable(AgentError):
    """The storage could not be reached (the database is down or restarting) for longer than it waits."""
