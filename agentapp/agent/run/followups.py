"""The work after a completed run: the automatic memory update, the session summary, the title.

The Agent decides which jobs a run needs; a `Followups` decides where they run. The default does
none elsewhere, so the Agent does them all before `run()` returns (a script sees its memories);
the app's agent hands them to Celery workers (`agentapp.app_agent`).

Done here, as Agno does them: the memory update's first request is asked when the run starts,
alongside the reply (`memory_alongside`), and the summary is made as soon as the reply is stored,
the rest of the update (its writes, any further request) done while the summary's request is out.
The update's writes wait for the reply, as before: a run whose reply fails writes no memories. It
is asked ahead only when the reply cannot change what the update reads (no memory tools in the run:
no agentic memory, no MemoryTools), so the memories, the summary and the stored rows are those of
doing it all after the reply, whichever answer comes first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Literal, Protocol

from agentapp.llm.types import Model

from ..errors import InvalidInput
from ..events import (
    MemoryUpdateCompleted,
    MemoryUpdateStarted,
    RunOutputEvent,
    SessionSummaryCompleted,
    SessionSummaryStarted,
)
from ..memory.manager import MemoryManager, memory_update_pass, update_memories
from ..memory.manager_pass import MemoryUpdate
from ..memory.query_embedding import QueryEmbedding
from ..records import RunHandle
from ..session import summaries, titles
from ..session.summaries import SessionSummaryManager
from ..settings import AgentSettings
from ..storage import AgentDb
from .alongside import Meanwhile, MemoryAlongside
from .turn import Turn

logger = logging.getLogger(__name__)

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


class AfterRun:
    """A part of `Agent`: the work after a completed run, handed to `followups` or done here."""

    model: Model
    db: AgentDb
    settings: AgentSettings
    followups: Followups
    title_model: Model | None
    memory_manager: MemoryManager | None
    session_summary_manager: SessionSummaryManager | None
    query_embedding: Callable[[], QueryEmbedding | None]

    def memory_alongside(self, turn: Turn) -> MemoryAlongside | None:
        """`turn`'s memory update made ready to start alongside its reply (the stored memories read,
        its first request made), when it is done here and the reply cannot change what it reads."""
        settings, controls = turn.settings, turn.run.controls
        if not (settings.update_memory_on_run and controls.writes_memories):
            return None
        if not isinstance(self.followups, RunInline):  # the jobs may go elsewhere, after the run
            return None
        if settings.enable_agentic_memory or settings.toolkits:  # the reply may write memories
            return None
        return MemoryAlongside.of(
            memory_update_pass(
                manager=self.memory_manager,
                model=self.model,
                db=self.db,
                run=turn.run,
                memory_context_limit=self.settings.memory_context_limit,
                max_tool_rounds=self.settings.max_tool_rounds,
                embed=self.query_embedding(),
            )
        )

    def after_run(self, turn: Turn, alongside: MemoryAlongside | None = None) -> Iterator[RunOutputEvent]:
        """Hand the jobs `turn` needs to `followups`; do here, yielding their events, what it did not take
        (the memory update through `alongside`, when it was started with the reply)."""
        jobs: list[FollowupJob] = []
        controls = turn.run.controls
        if turn.settings.update_memory_on_run and controls.writes_memories:
            jobs.append("memory")
        if turn.settings.enable_session_summaries and not controls.temporary:
            jobs.append("summary")
        if not turn.run.session_has_title and not controls.temporary:
            jobs.append("title")
        if not jobs:
            return
        with turn.telemetry.current():  # what is sent carries the run's trace context
            taken = set(self.followups.dispatch(run=turn.run, jobs=jobs))
        memory = "memory" in jobs and "memory" not in taken
        summary = "summary" in jobs and "summary" not in taken
        if memory and alongside is not None:
            yield from self._alongside_events(turn.run, alongside, summary=summary)
        else:
            if memory:
                yield from self._memory_update_events(turn.run)
            if summary:
                yield from self._summary_events(turn.run)
        if "title" in jobs and "title" not in taken:
            try:
                self.title_session(turn.run.session_id)
            except Exception:  # a title is a nicety: the run stays completed
                logger.exception("could not title session %s", turn.run.session_id)

    def _alongside_events(
        self, run: RunHandle, alongside: MemoryAlongside, *, summary: bool
    ) -> Iterator[RunOutputEvent]:
        """The summary at once (the reply is stored), the rest of the memory update done while the
        summary's request is out; their events in the usual order, the memory update's first."""
        finished: list[MemoryUpdate] = []
        failed: list[Exception] = []

        def finish() -> None:
            try:
                finished.append(alongside.finish())
            except Exception as exc:  # raised below, out of the summary's way, as it would be alone
                failed.append(exc)

        meanwhile = Meanwhile(finish)
        summary_events = list(self._summary_events(run, through=meanwhile)) if summary else []
        meanwhile.done()
        if failed:
            raise failed[0]
        yield from self._memory_update_events(run, lambda: finished[0])
        yield from summary_events

    def _memory_update_events(
        self, run: RunHandle, finish: Callable[[], MemoryUpdate] | None = None
    ) -> Iterator[RunOutputEvent]:
        yield MemoryUpdateStarted(run.run_id)
        update = finish() if finish is not None else self._memory_update(run)
        yield from update.changes
        error = update.error.message if update.error is not None else None
        yield MemoryUpdateCompleted(run.run_id, changes=len(update.changes), error=error)

    def _summary_events(
        self, run: RunHandle, *, through: Callable[[Model], Model] | None = None
    ) -> Iterator[RunOutputEvent]:
        yield SessionSummaryStarted(run.run_id)
        failure: str | None = None
        try:
            self.update_session_summary(run.session_id, through=through)
        except Exception as exc:  # the reply is stored and completed; a failed summary must not undo that
            summaries.record_failure(self.db, run, exc)
            failure = str(exc) or type(exc).__name__
        summary = self.db.session_summary_get(session_id=run.session_id)
        yield SessionSummaryCompleted(run.run_id, summary.summary if summary else None, failure)

    def _memory_update(self, run: RunHandle) -> MemoryUpdate:
        if not run.controls.writes_memories:  # as the person's choices are now: a forgotten run, say
            return MemoryUpdate()
        return update_memories(
            manager=self.memory_manager,
            model=self.model,
            db=self.db,
            run=run,
            memory_context_limit=self.settings.memory_context_limit,
            max_tool_rounds=self.settings.max_tool_rounds,
            embed=self.query_embedding(),
        )

    def update_session_summary(
        self, session_id: str, *, through: Callable[[Model], Model] | None = None
    ) -> summaries.SummaryUpdate:
        """Fold the session's completed runs that its summary does not cover yet into it (asking the
        model as `through` makes it, when given).

        What the background task calls. Raises the model's `ModelError` when a request fails.
        """
        return summaries.update_summary(
            model=self.model,
            db=self.db,
            session_id=session_id,
            manager=self.session_summary_manager,
            through=through,
        )

    def update_memory_for_run(self, run_id: str, *, raise_errors: bool = False) -> MemoryUpdate:
        """The automatic memory update for a finished run (what the background task calls).

        With raise_errors, a failed model request is raised as its ModelError (after being
        recorded), so the caller can retry a transient one.
        """
        update = self._memory_update(self.db.run_handle(run_id=run_id))
        if raise_errors and update.error is not None:
            raise update.error
        return update

    def title_session(self, session_id: str) -> str:
        """Give an untitled session a title from its first message (`title_model`'s words, or the
        message's first words); a session already titled, by a person or earlier, keeps its title."""
        session = self.db.session_get(session_id=session_id)
        if session is None or session.title:
            return session.title if session else ""
        first = self.db.session_first_message(session_id=session_id)
        if not first:
            return ""
        title = titles.suggest_title(first, model=self.title_model)
        try:
            self.db.session_title_set(session_id=session_id, title=title)
        except InvalidInput:
            return ""
        return title
