"""The one exception hierarchy services raise; the API and views map it once."""

from __future__ import annotations


class AgentAppError(Exception):
    """Base class. `message` is safe to show to the person who caused it."""

    status_code = 400

    def __init__(self, message: str, *, detail: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(AgentAppError):
    status_code = 404


class SessionNotFound(NotFound):
    pass


class SessionOwnedByAnotherUser(SessionNotFound):
    """Raised to the Python API, which is trusted; HTTP layers answer a plain 404."""


class RunNotFound(NotFound):
    pass


class MemoryNotFound(NotFound):
    pass


class InvalidInput(AgentAppError):
    status_code = 422


class Conflict(AgentAppError):
    status_code = 409
