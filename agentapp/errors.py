"""The one exception hierarchy: services raise it, the API maps it once, pages let Django answer.

`NotFound` is also Django's `Http404`, so a view that meets one answers a 404 without a word; the
runtime's own errors (`agentapp.agent.errors`) are bases of the matching classes here, so code
catching the runtime's error catches the Django storage's too.
"""

from __future__ import annotations

from django.http import Http404

from agentapp.agent import errors as runtime


class AgentAppError(runtime.AgentError):
    status_code = 400


class NotFound(AgentAppError, Http404):
    status_code = 404


class SessionNotFound(NotFound, runtime.SessionNotFound):
    pass


class SessionOwnedByAnotherUser(SessionNotFound, runtime.SessionOwnedByAnotherUser):
    """Raised to the Python API, which is trusted; HTTP layers answer a plain 404."""


class RunNotFound(NotFound, runtime.RunNotFound):
    pass


class MemoryNotFound(NotFound, runtime.MemoryNotFound):
    pass


class InvalidInput(AgentAppError, runtime.InvalidInput):
    status_code = 422


class RunIdTaken(InvalidInput, runtime.RunIdTaken):
    pass


class Conflict(AgentAppError):
    status_code = 409


class RateLimited(AgentAppError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int, detail: object = None) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class FollowupFailed(Exception):
    """Work after a run (memory update, summary, title) failed. A `transient` failure (a timeout, a
    429, a 5xx) is worth another try later: the tasks retry on it, with backoff."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


class FollowupBusy(Exception):
    """Another claim holds the work (a worker at it, or one killed whose claim has not expired):
    ask again in `retry_in` seconds, when it is done or may be taken over."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"claimed elsewhere; ask again in {retry_in:.0f}s")
        self.retry_in = retry_in


class StorageUnavailable(AgentAppError, runtime.StorageUnavailable):
    status_code = 503
