"""What the runtime raises itself, whatever the storage; `agentapp.errors` builds the app's on these."""

from __future__ import annotations


class AgentError(Exception):
    """Base class. `message` is safe to show to the person who caused it."""

    def __init__(self, message: str, *, detail: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(AgentError):
    """A message, id or memory the storage refuses (empty, too long, badly formed)."""


class SessionOwnedByAnotherUser(AgentError):
    """A `session_id` that belongs to someone else: sessions are never shared between users."""


class RunNotFound(AgentError):
    pass


class SessionNotFound(AgentError):
    pass


class MemoryNotFound(AgentError):
    """A memory id that is not the run's user's (or does not exist): the two are not told apart."""


class StorageUnavailable(AgentError):
    """The storage could not be reached (the database is down or restarting) for longer than it waits."""
