"""The work after a completed run: the automatic memory update, the session summary, the title.

The Agent decides which jobs a run needs; a `Followups` decides where they run. The default does
none elsewhere, so the Agent does them all before `run()` returns (a script sees its memories);
the app's agent hands them to Celery workers (`agentapp.app_agent`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal, Protocol

from .records import RunHandle

FollowupJob = Literal["memory", "summary", "title"]


class Followups(Protocol):
    def dispatch(self, *, run: RunHandle, jobs: Sequence[FollowupJob]) -> Collection[FollowupJob]:
        """Take the jobs done elsewhere (after the run's writes are committed); returns those taken.

        The Agent does the rest itself, at once.
        """
        ...


class RunInline:
    """Takes nothing: every job runs in the caller, right after the reply."""

    def dispatch(self, *, run: RunHandle, jobs: Sequence[FollowupJob]) -> Collection[FollowupJob]:
        return ()
