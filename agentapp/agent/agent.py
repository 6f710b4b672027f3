"""The public Agent: one object, many users and sessions, state kept in its `db`."""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Sequence,
)
from contextlib import aclosing, closing
from typing import Any, Literal, TextIO, overload

from asgiref.sync import markcoroutinefunction, sync_to_async

from agentapp.llm.embeddings import Embedder
from agentapp.llm.env import model_from_env
from agentapp.llm.types import Message, Model

from . import loop, memory_manager, summarizer, titles
from .context import DEFAULT_INSTRUCTIONS
from .errors import InvalidInput
from .events import (
    MemoryUpdateCompleted,
    MemoryUpdateStarted,
    RunCancelled,
    RunCompleted,
    RunContent,
    RunError,
    RunMetrics,
    RunOutput,
    RunOutputEvent,
    RunStarted,
    SessionSummaryCompleted,
    SessionSummaryStarted,
)
from .followups import FollowupJob, Followups, RunInline
from .ids import check_session_id
from .in_memory import InMemoryDb
from .memory_store import MemoryVerbs
from .memory_toolkit import MemoryTools
from .options import AgentOptions
from .recall import QUERY_EMBED_TIMEOUT, QueryEmbedding, capped_query_embedding
from .records import RunHandle, RunRecord, SessionMetrics, SessionRecord, SessionSummaryRecord, UserMemory
from .run_context import RunContext, fill_placeholders, merged_state
from .storage import AgentDb
from .tools import Tool, as_tool
from .turn import Turn

logger = logging.getLogger(__name__)
MARKDOWN_INSTRUCTION = "Use markdown to format your answers."
DEFAULT_USER_ID = "default"  # whose runs they are when neither the run nor the Agent names anyone
_ENDINGS = (RunCompleted, RunError, RunCancelled)


class Agent:
    """An agent with session history and per-user memory.

    Parameter names follow Agno's. `db` is where sessions, runs and memories live
    (`agentapp.db.DjangoDb()` for the Django database); without one, this process's memory
    (`InMemoryDb()`). `user_id` and `session_id` are defaults for every run; without a session id,
    the Agent starts one and keeps it, so the next run continues the thread.
    `followups` decides where the work after a run happens; by default it is done before `run()`
    returns. `title_model` names new sessions in a few words; without one, a session is titled
    with the first words of its first message.

    Memories reach the context within `memory_context_limit` (a count) and `memory_context_tokens`
    (a token budget, optional): all of them when they fit, else the best for the message by meaning
    (with an `embedder`, e.g. `LocalEmbedder()`), words and recency. The query's embedding waits at
    most `embed_timeout` seconds; past it, the turn recalls by words and recency.
    """

    def __init__(
        self,
        *,
        model: Model | None = None,
        db: AgentDb | None = None,
        name: str = "agent",
        user_id: str | None = None,
        session_id: str | None = None,
        instructions: str | Sequence[str] | Callable[..., str | Sequence[str]] | None = None,
        description: str | None = None,
        markdown: bool = False,
        id: str | None = None,
        telemetry: bool = False,
        session_state: dict[str, Any] | None = None,
        add_session_state_to_context: bool = False,
        overwrite_db_session_state: bool = False,
        enable_agentic_state: bool = False,
        read_chat_history: bool = False,
        read_tool_call_history: bool = False,
        search_past_sessions: bool = False,
        num_past_sessions_to_search: int = 3,
        num_past_session_runs_in_search: int = 3,
        add_history_to_context: bool = False,
        max_tool_calls_from_history: int | None = None,
        store_tool_messages: bool = True,
        store_history_messages: bool = False,
        store_events: bool = False,
        num_history_runs: int | None = 3,
        num_history_messages: int | None = None,
        enable_agentic_memory: bool = False,
        update_memory_on_run: bool = False,
        add_memories_to_context: bool | None = None,
        memory_context_limit: int = 50,
        memory_context_tokens: int | None = None,
        embedder: Embedder | None = None,
        embed_timeout: float = QUERY_EMBED_TIMEOUT,
        enable_session_summaries: bool = False,
        add_session_summary_to_context: bool | None = None,
        tools: Iterable[Tool | MemoryTools | Callable[..., Any]] = (),
        max_tool_rounds: int = loop.DEFAULT_MAX_ROUNDS,
        followups: Followups | None = None,
        title_model: Model | None = None,
        memory_manager: memory_manager.MemoryManager | None = None,
        session_summary_manager: summarizer.SessionSummaryManager | None = None,
    ) -> None:
        if num_history_runs is not None and num_history_runs < 0:
            raise ValueError("num_history_runs must not be negative")
        if num_history_messages is not None and num_history_messages < 0:
            raise ValueError("num_history_messages must not be negative")
        self.model = model if model is not None else model_from_env()
        # Without a db, sessions and memories live in this process's memory, as Agno's do.
        self.db: AgentDb = db if db is not None else InMemoryDb()
        self.name = name
        # Defaults for every run; a session id the Agent generates is kept here, so the next run
        # without one continues the same thread (for the same person).
        self.user_id = user_id
        self.session_id = check_session_id(session_id) if session_id else None
        self._session_owner: str | None = self.user_id if session_id else None
        self.instructions = instructions
        self.description = description
        self.markdown = markdown
        self.id = id or name
        self.telemetry = telemetry  # accepted for Agno's scripts; nothing is ever sent anywhere
        self.session_state = dict(session_state) if session_state else None
        self.add_session_state_to_context = add_session_state_to_context
        self.overwrite_db_session_state = overwrite_db_session_state
        self.enable_agentic_state = enable_agentic_state
        # Tools over what was said before (Agno's), all bounded and all the run's user's own.
        self.read_chat_history = read_chat_history
        self.read_tool_call_history = read_tool_call_history
        self.search_past_sessions = search_past_sessions
        self.num_past_sessions_to_search = max(1, num_past_sessions_to_search)
        self.num_past_session_runs_in_search = max(1, num_past_session_runs_in_search)
        self._run_states: dict[str, dict[str, Any]] = {}  # a run's own session_state, until it starts
        self.add_history_to_context = add_history_to_context
        if max_tool_calls_from_history is not None and max_tool_calls_from_history < 0:
            raise ValueError("max_tool_calls_from_history must not be negative")
        self.max_tool_calls_from_history = max_tool_calls_from_history
        self.store_tool_messages = store_tool_messages
        self.store_history_messages = store_history_messages
        self.store_events = store_events
        self.num_history_runs = num_history_runs
        self.num_history_messages = num_history_messages
        self.enable_agentic_memory = enable_agentic_memory
        self.update_memory_on_run = update_memory_on_run
        memory_on = enable_agentic_memory or update_memory_on_run
        self.add_memories_to_context = (
            memory_on if add_memories_to_context is None else add_memories_to_context
        )
        if memory_context_limit < 0:
            raise ValueError("memory_context_limit must not be negative")
        if memory_context_tokens is not None and memory_context_tokens < 0:
            raise ValueError("memory_context_tokens must not be negative")
        self.memory_context_limit = memory_context_limit
        self.memory_context_tokens = memory_context_tokens
        self.embedder = embedder
        self.embed_timeout = embed_timeout
        self.enable_session_summaries = enable_session_summaries
        self.add_session_summary_to_context = (
            enable_session_summaries
            if add_session_summary_to_context is None
            else add_session_summary_to_context
        )
        given = list(tools)
        # Toolkits (MemoryTools) are bound to each run's user and storage when the run starts.
        self.toolkits = [tool for tool in given if isinstance(tool, MemoryTools)]
        self.tools = [as_tool(tool) for tool in given if not isinstance(tool, MemoryTools)]
        self.max_tool_rounds = max_tool_rounds
        self.followups: Followups = followups if followups is not None else RunInline()
        self.title_model = title_model
        # How memories are captured (its model, prompt and allowed writes) and how summaries are
        # written; without them, this agent's model with the built-in prompts.
        self.memory_manager = memory_manager
        self.session_summary_manager = session_summary_manager

    def options(self, run_context: RunContext | None = None) -> AgentOptions:
        """This agent's settings as a run reads them (a copy: changing the agent later leaves it be)."""
        return AgentOptions(
            name=self.name,
            instructions=self.system_instructions(run_context),
            add_history_to_context=self.add_history_to_context,
            num_history_runs=self.num_history_runs,
            num_history_messages=self.num_history_messages,
            enable_agentic_memory=self.enable_agentic_memory,
            update_memory_on_run=self.update_memory_on_run,
            add_memories_to_context=self.add_memories_to_context,
            memory_context_limit=self.memory_context_limit,
            memory_context_tokens=self.memory_context_tokens,
            enable_session_summaries=self.enable_session_summaries,
            add_session_summary_to_context=self.add_session_summary_to_context,
            tools=tuple(self.tools),
            max_tool_rounds=self.max_tool_rounds,
            enable_agentic_state=self.enable_agentic_state,
            agent_id=self.id,
            read_chat_history=self.read_chat_history,
            read_tool_call_history=self.read_tool_call_history,
            search_past_sessions=self.search_past_sessions,
            num_past_sessions_to_search=self.num_past_sessions_to_search,
            num_past_session_runs_in_search=self.num_past_session_runs_in_search,
            max_tool_calls_from_history=self.max_tool_calls_from_history,
            store_tool_messages=self.store_tool_messages,
            store_history_messages=self.store_history_messages,
            store_events=self.store_events,
            memory_writes=self.memory_manager.tools_allowed() if self.memory_manager else None,
            toolkits=tuple(self.toolkits),
        )

    def system_instructions(self, run_context: RunContext | None = None) -> str:
        """What the system message opens with, as Agno composes it: the description, then the
        instructions (a string; a list, one "- " line each; or a callable returning either, given
        the `agent`, the `run_context` or the `session_state` it names), `{key}` placeholders filled
        from the session state, then the Markdown request and (add_session_state_to_context) the
        state itself."""
        state = run_context.session_state if run_context is not None else dict(self.session_state or {})
        instructions: Any = self.instructions
        if callable(instructions):
            offered = {"agent": self, "run_context": run_context, "session_state": state}
            names = inspect.signature(instructions).parameters
            instructions = instructions(**{name: offered[name] for name in names if name in offered})
        if isinstance(instructions, str):
            body = instructions.strip()
        elif instructions:
            body = "\n".join(f"- {' '.join(str(line).split())}" for line in instructions if str(line).strip())
        else:
            body = ""
        parts = [self.description.strip() if self.description else "", body or DEFAULT_INSTRUCTIONS]
        parts = [fill_placeholders(part, state) for part in parts]
        if self.markdown:
            parts.append(MARKDOWN_INSTRUCTION)
        if self.add_session_state_to_context:
            shown = json.dumps(state, ensure_ascii=False, default=str, indent=2)
            parts.append(f"<session_state>\n{shown}\n</session_state>")
        return "\n\n".join(part for part in parts if part)

    # --- running -----------------------------------------------------------------
    @overload
    def run(
        self,
        input: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        session_state: dict[str, Any] | None = None,
        stream: Literal[False] = False,
        stream_events: bool = False,
        yield_run_output: bool = False,
    ) -> RunOutput: ...

    @overload
    def run(
        self,
        input: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        session_state: dict[str, Any] | None = None,
        stream: Literal[True],
        stream_events: bool = False,
        yield_run_output: bool = False,
    ) -> Iterator[RunOutputEvent | RunOutput]: ...

    def run(
        self,
        input: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        session_state: dict[str, Any] | None = None,
        stream: bool = False,
        stream_events: bool = False,
        yield_run_output: bool = False,
    ) -> RunOutput | Iterator[RunOutputEvent | RunOutput]:
        """Run one turn and return its RunOutput. With stream=True, an iterator of the reply's content
        events (each with `.content`) and, should the run fail or stop, its RunError or RunCancelled;
        with stream_events=True every event (the run's start, tool calls, memory and summary work,
        RunCompleted); with yield_run_output=True, the RunOutput last. The work after the run (the
        automatic memory update, the summary) is done before RunCompleted, so a consumer that stops
        reading there loses none of it."""
        run = self._begin(input, user_id=user_id, session_id=session_id, session_state=session_state)
        events = self._execute(run, stream=stream)
        if not stream:
            return _final_output(events)
        return _shown(events, stream_events=stream_events, yield_run_output=yield_run_output)

    @markcoroutinefunction  # awaitable either way, so async_to_sync and Django treat it as async
    def arun(
        self,
        input: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        session_state: dict[str, Any] | None = None,
        stream: bool = False,
        stream_events: bool = False,
        yield_run_output: bool = False,
    ) -> Any:
        """`run` for async callers: `await agent.arun(...)` for the RunOutput; with stream=True,
        `async for event in agent.arun(..., stream=True)` directly (awaiting it gives the same
        iterator, with the run begun)."""
        if not stream:
            return self._arun_output(
                input, user_id=user_id, session_id=session_id, session_state=session_state
            )

        async def begin() -> AsyncIterator[RunOutputEvent | RunOutput]:
            run = await sync_to_async(self._begin)(
                input, user_id=user_id, session_id=session_id, session_state=session_state
            )
            events = self._aexecute(run, stream=True)
            return _ashown(events, stream_events=stream_events, yield_run_output=yield_run_output)

        return AsyncRunStream(begin)

    async def _arun_output(
        self, input: str, *, user_id: str | None, session_id: str | None, session_state: dict[str, Any] | None
    ) -> RunOutput:
        run = await sync_to_async(self._begin)(
            input, user_id=user_id, session_id=session_id, session_state=session_state
        )
        return await _afinal_output(self._aexecute(run, stream=False))

    def run_pending(
        self, run_id: str, *, stream: bool = False
    ) -> RunOutput | Generator[RunOutputEvent, None, None] | None:
        """Execute a run someone created as pending (the chat's POST); None when it was already claimed.
        Streamed, every event (the chat shows them all).

        The claim is one conditional update, so a reconnecting browser never starts a second model call.
        """
        run = self.db.run_claim(run_id=run_id, model_id=self.model.id, model_provider=self.model.provider)
        if run is None:
            return None
        events = self._execute(run, stream=stream)
        return events if stream else _final_output(events)

    @overload
    async def arun_pending(self, run_id: str, *, stream: Literal[False] = False) -> RunOutput | None: ...

    @overload
    async def arun_pending(
        self, run_id: str, *, stream: Literal[True]
    ) -> AsyncGenerator[RunOutputEvent, None] | None: ...

    async def arun_pending(
        self, run_id: str, *, stream: bool = False
    ) -> RunOutput | AsyncGenerator[RunOutputEvent, None] | None:
        run = await sync_to_async(self.db.run_claim)(
            run_id=run_id, model_id=self.model.id, model_provider=self.model.provider
        )
        if run is None:
            return None
        events = self._aexecute(run, stream=stream)
        return events if stream else await _afinal_output(events)

    def _identity(self, user_id: str | None, session_id: str | None) -> tuple[str, str]:
        """Who the run is for and in which thread: the run's, else the Agent's, else the default user
        and (kept on the Agent for the next run) a new session. A kept session is another person's
        only when the next run names another user: that person gets a thread of their own."""
        user = user_id or self.user_id or DEFAULT_USER_ID
        if session_id:
            return user, check_session_id(session_id)
        if self.session_id and (self._session_owner in (None, user)):
            self._session_owner = user
            return user, self.session_id
        self.session_id = f"ses_{uuid.uuid4().hex}"
        self._session_owner = user
        return user, self.session_id

    def _begin(
        self,
        message: str,
        *,
        user_id: str | None,
        session_id: str | None,
        session_state: dict[str, Any] | None = None,
    ) -> RunHandle:
        user, session = self._identity(user_id, session_id)
        run = self.db.run_begin(
            user_id=user,
            session_id=session,
            agent_name=self.name,
            message=message,
            model_id=self.model.id,
            model_provider=self.model.provider,
        )
        if session_state is not None:
            self._run_states[run.run_id] = session_state
        return run

    def query_embedding(self) -> QueryEmbedding | None:
        """How this agent embeds a recall query (its embedder, capped at `embed_timeout`), or None."""
        if self.embedder is None:
            return None
        return capped_query_embedding(self.embedder, timeout=self.embed_timeout)

    def _run_context(self, run: RunHandle) -> RunContext:
        """The run's session state, by Agno's precedence: the run's over the stored one over the
        Agent's default (with overwrite_db_session_state, the run's replaces the stored one)."""
        given = self._run_states.pop(run.run_id, None)
        stored = None if (self.overwrite_db_session_state and given is not None) else run.session_state
        state = merged_state(self.session_state, stored, given)
        return RunContext(run.run_id, run.session_id, run.user_id, state)

    def _turn(self, run: RunHandle) -> Turn:
        with _CANCEL_LOCK:
            _RUNNING.add(run.run_id)
        run_context = self._run_context(run)
        return Turn(
            options=self.options(run_context),
            model=self.model,
            db=self.db,
            run=run,
            started_at=time.time(),
            query_embedding=self.query_embedding(),
            run_context=run_context,
        )

    def _execute(self, run: RunHandle, *, stream: bool) -> Generator[RunOutputEvent, None, None]:
        turn = self._turn(run)
        crashed: RunError | None = None
        completed: RunCompleted | None = None
        stopped: RunCancelled | None = None
        try:
            yield turn.keep(RunStarted(run.run_id, run.session_id, run.user_id))
            messages, tools = turn.prepare()
            events = loop.run_loop(
                self.model, messages, tools, stream=stream, max_rounds=turn.options.max_tool_rounds
            )
            with closing(events):  # a cancelled run closes the model's stream at once
                for event in events:
                    for item in turn.handle(event):
                        if isinstance(item, RunCompleted):
                            completed = item  # said after the work that follows the reply
                        else:
                            yield turn.keep(item)
                    if _cancellation_asked(run.run_id) and not turn.finished:
                        stopped = turn.cancel()
                        break
        except GeneratorExit:
            raise
        except Exception as exc:
            crashed = turn.crash(exc)
        finally:
            _forget_run(run.run_id)
            if not turn.finished:
                turn.cancel()
        if stopped is not None:
            yield turn.keep(stopped)
            return
        if crashed is not None:
            yield turn.keep(crashed)
            return
        if turn.completed and completed is not None:
            for item in self._followups(turn):
                yield turn.keep(item)
            yield turn.keep(completed)

    async def _aexecute(self, run: RunHandle, *, stream: bool) -> AsyncGenerator[RunOutputEvent, None]:
        turn = self._turn(run)
        crashed: RunError | None = None
        completed: RunCompleted | None = None
        stopped: RunCancelled | None = None
        try:
            yield turn.keep(RunStarted(run.run_id, run.session_id, run.user_id))
            messages, tools = await turn.aprepare()
            events = loop.arun_loop(
                self.model,
                messages,
                tools,
                stream=stream,
                max_rounds=turn.options.max_tool_rounds,
                tool_runner=_tool_runner,
            )
            async with aclosing(events):  # a cancelled run closes the model's stream at once
                async for event in events:
                    # Most events touch no storage: handle those here rather than hop to a thread for each.
                    handled = (
                        await sync_to_async(turn.handle)(event)
                        if turn.handling_touches_storage(event)
                        else turn.handle(event)
                    )
                    for item in handled:
                        if isinstance(item, RunCompleted):
                            completed = item  # said after the work that follows the reply
                        else:
                            yield turn.keep(item)
                    if _cancellation_asked(run.run_id) and not turn.finished:
                        stopped = await sync_to_async(turn.cancel)()
                        break
        except GeneratorExit:
            raise
        except Exception as exc:
            crashed = await sync_to_async(turn.crash)(exc)
        finally:
            _forget_run(run.run_id)
            if not turn.finished:
                await sync_to_async(turn.cancel)()
        if stopped is not None:
            yield turn.keep(stopped)
            return
        if crashed is not None:
            yield turn.keep(crashed)
            return
        if turn.completed and completed is not None:
            # Follow-ups are short storage work or a separate model request; run them off the event loop.
            for item in await sync_to_async(lambda: list(self._followups(turn)))():
                yield turn.keep(item)
            yield turn.keep(completed)

    # --- after a run: automatic memory, session summary, title ------------------------
    def _followup_jobs(self, turn: Turn) -> list[FollowupJob]:
        jobs: list[FollowupJob] = []
        if turn.options.update_memory_on_run:
            jobs.append("memory")
        if turn.options.enable_session_summaries:
            jobs.append("summary")
        if not turn.run.session_has_title:
            jobs.append("title")
        return jobs

    def _followups(self, turn: Turn) -> Generator[RunOutputEvent, None, None]:
        """Hand the work after the run to `followups`, and do here whatever it did not take."""
        jobs = self._followup_jobs(turn)
        if not jobs:
            return
        with turn.telemetry.current():  # what is sent carries the run's trace context
            taken = set(self.followups.dispatch(run=turn.run, jobs=jobs))
        run_id = turn.run.run_id
        if "memory" in jobs and "memory" not in taken:
            yield MemoryUpdateStarted(run_id)
            update = self._memory_update(turn.run)
            yield from update.changes
            error = update.error.message if update.error is not None else None
            yield MemoryUpdateCompleted(run_id, changes=len(update.changes), error=error)
        if "summary" in jobs and "summary" not in taken:
            yield SessionSummaryStarted(run_id)
            failure: str | None = None
            try:
                self.update_session_summary(turn.run.session_id)
            except Exception as exc:  # the reply is stored and completed; a failed summary must not undo that
                summarizer.record_failure(self.db, turn.run, exc)
                failure = str(exc) or type(exc).__name__
            summary = self.db.session_summary_get(session_id=turn.run.session_id)
            yield SessionSummaryCompleted(run_id, summary.summary if summary else None, failure)
        if "title" in jobs and "title" not in taken:
            try:
                self.title_session(turn.run.session_id)
            except Exception:  # a title is a nicety: the run stays completed
                logger.exception("could not title session %s", turn.run.session_id)

    def _memory_update(self, run: RunHandle) -> memory_manager.MemoryUpdate:
        return memory_manager.update_memories(
            manager=self.memory_manager,
            model=self.model,
            db=self.db,
            run=run,
            memory_limit=self.memory_context_limit,
            max_rounds=self.max_tool_rounds,
            embed=self.query_embedding(),
        )

    def update_session_summary(self, session_id: str) -> summarizer.SummaryUpdate:
        """Fold the session's completed runs that its summary does not cover yet into it.

        What the background task calls. Raises the model's `ModelError` when a request fails.
        """
        return summarizer.update_summary(
            model=self.model, db=self.db, session_id=session_id, manager=self.session_summary_manager
        )

    def update_memory_for_run(
        self, run_id: str, *, raise_errors: bool = False
    ) -> memory_manager.MemoryUpdate:
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

    # --- reading state -----------------------------------------------------------
    def cancel_run(self, run_id: str) -> bool:
        """Stop a run of this process at its next step (Agno's `cancel_run`): it ends as cancelled,
        keeping what was said, and its stream yields RunCancelled. False for a run not going here."""
        with _CANCEL_LOCK:
            if run_id not in _RUNNING:
                return False
            _CANCELLED.add(run_id)
        return True

    # --- output for people -------------------------------------------------------------
    def print_response(
        self,
        input: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        stream: bool = False,
        markdown: bool | None = None,
        file: TextIO | None = None,
    ) -> RunOutput:
        """Run a turn and print the reply (as it streams with stream=True); with markdown (the
        Agent's `markdown` by default), rendered for the terminal by `rich` where it is installed."""
        out = file if file is not None else sys.stdout
        if not stream:
            output = self.run(input, user_id=user_id, session_id=session_id)
            _print_reply(output, out, markdown=self.markdown if markdown is None else markdown)
            return output
        final: RunOutput | None = None
        for item in self.run(
            input, user_id=user_id, session_id=session_id, stream=True, yield_run_output=True
        ):
            if isinstance(item, RunOutput):
                final = item
            elif isinstance(item, RunContent):
                out.write(item.content)
                out.flush()
        out.write("\n")
        if final is None:  # pragma: no cover - a stream always ends with its output here
            raise RuntimeError("the run ended without an outcome")
        if final.status != "completed":
            out.write(f"[{final.status}] {final.error or ''}\n")
        return final

    async def aprint_response(
        self,
        input: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        stream: bool = False,
        markdown: bool | None = None,
        file: TextIO | None = None,
    ) -> RunOutput:
        return await sync_to_async(self.print_response, thread_sensitive=True)(
            input, user_id=user_id, session_id=session_id, stream=stream, markdown=markdown, file=file
        )

    # --- session state -------------------------------------------------------------------
    def get_session_state(self, session_id: str | None = None) -> dict[str, Any]:
        """The stored state of `session_id` (the Agent's session by default); {} for none yet."""
        session = self.db.session_get(session_id=self._current_session(session_id))
        return dict(session.session_state) if session is not None else {}

    def update_session_state(
        self, session_state_updates: dict[str, Any], session_id: str | None = None
    ) -> dict[str, Any]:
        """Merge `session_state_updates` into the stored state of `session_id` (the Agent's session by
        default); returns the state now stored."""
        target = self._current_session(session_id)
        state = merged_state(self.get_session_state(target), session_state_updates)
        self.db.session_state_set(session_id=target, state=state)
        return state

    def _current_session(self, session_id: str | None = None) -> str:
        target = session_id or self.session_id
        if not target:
            raise ValueError("no session yet: pass session_id, or run the Agent once")
        return target

    def get_user_memories(self, user_id: str | None = None) -> list[UserMemory]:
        """The person's memories (the Agent's user, else "default"), oldest first as Agno's."""
        user = user_id or self.user_id or DEFAULT_USER_ID
        if isinstance(self.db, MemoryVerbs):
            return self.db.get_user_memories(user)
        return list(reversed(self.db.user_memories(user_id=user)))

    def get_session(self, session_id: str | None = None, user_id: str | None = None) -> SessionRecord | None:
        """The session (the Agent's by default) with its runs (`runs`); None when there is none."""
        target = session_id or self.session_id
        if not target:
            return None
        session = self.db.session_get(session_id=target, user_id=user_id)
        if session is None:
            return None
        return dataclasses.replace(session, runs=self.db.session_runs(session_id=target, user_id=user_id))

    def get_chat_history(
        self, session_id: str | None = None, user_id: str | None = None, *, last_n_runs: int | None = None
    ) -> list[Message]:
        """The user's and the assistant's messages of the session (of its last `last_n_runs` runs),
        along the thread shown: of a turn edited or regenerated, the version chosen."""
        runs = [r for r in self._runs_of(session_id, user_id) if r.shown]
        if last_n_runs is not None:
            runs = runs[-last_n_runs:] if last_n_runs > 0 else []
        return [
            m
            for r in runs
            for m in r.messages
            if m.role in ("user", "assistant") and m.content and not m.from_history
        ]

    def get_session_messages(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> list[Message]:
        """Every message of the thread shown, tool calls and results included, oldest first (without
        the copies of earlier history that runs stored with store_history_messages)."""
        runs = self._runs_of(session_id, user_id)
        return [m for r in runs if r.shown for m in r.messages if not m.from_history]

    def get_run_output(
        self, run_id: str, session_id: str | None = None, user_id: str | None = None
    ) -> RunOutput | None:
        run = next((r for r in self._runs_of(session_id, user_id) if r.run_id == run_id), None)
        return _stored_output(run, agent=self) if run is not None else None

    def get_last_run_output(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> RunOutput | None:
        runs = self._runs_of(session_id, user_id)
        return _stored_output(runs[-1], agent=self) if runs else None

    def get_session_metrics(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> SessionMetrics:
        runs = self._runs_of(session_id, user_id)
        return SessionMetrics(
            runs=len(runs),
            input_tokens=sum(r.input_tokens for r in runs),
            output_tokens=sum(r.output_tokens for r in runs),
            total_tokens=sum(r.total_tokens for r in runs),
            duration_ms=sum(r.duration_ms for r in runs),
        )

    def get_session_name(self, session_id: str | None = None) -> str:
        session = self.db.session_get(session_id=self._current_session(session_id))
        return session.title if session is not None else ""

    def set_session_name(
        self, session_id: str | None = None, session_name: str | None = None, *, autogenerate: bool = False
    ) -> str:
        """Name the session; with autogenerate, a few words from its first message (the
        `title_model`'s, else the Agent's model's)."""
        target = self._current_session(session_id)
        if autogenerate:
            first = self.db.session_first_message(session_id=target) or ""
            session_name = titles.suggest_title(first, model=self.title_model or self.model) if first else ""
        if not session_name:
            raise ValueError("give session_name, or autogenerate=True for a session with a message")
        self.db.session_rename(session_id=target, title=session_name)
        return self.get_session_name(target)

    def delete_session(self, session_id: str, user_id: str | None = None) -> bool:
        """Delete the session and its runs (the person's memories stay); False when there was none."""
        deleted = self.db.session_delete(session_id=session_id, user_id=user_id)
        if deleted and session_id == self.session_id:
            self.session_id = None
        return deleted

    def get_session_summary(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> SessionSummaryRecord | None:
        return self.db.session_summary_get(session_id=self._current_session(session_id), user_id=user_id)

    def _runs_of(self, session_id: str | None, user_id: str | None) -> list[RunRecord]:
        return self.db.session_runs(session_id=self._current_session(session_id), user_id=user_id)

    # --- the async twins (the storage's work on a thread) ----------------------------
    async def aget_session(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> SessionRecord | None:
        return await sync_to_async(self.get_session)(session_id, user_id)

    async def aget_chat_history(
        self, session_id: str | None = None, user_id: str | None = None, *, last_n_runs: int | None = None
    ) -> list[Message]:
        return await sync_to_async(self.get_chat_history)(session_id, user_id, last_n_runs=last_n_runs)

    async def aget_session_messages(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> list[Message]:
        return await sync_to_async(self.get_session_messages)(session_id, user_id)

    async def aget_run_output(
        self, run_id: str, session_id: str | None = None, user_id: str | None = None
    ) -> RunOutput | None:
        return await sync_to_async(self.get_run_output)(run_id, session_id, user_id)

    async def aget_last_run_output(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> RunOutput | None:
        return await sync_to_async(self.get_last_run_output)(session_id, user_id)

    async def aget_session_metrics(
        self, session_id: str | None = None, user_id: str | None = None
    ) -> SessionMetrics:
        return await sync_to_async(self.get_session_metrics)(session_id, user_id)

    async def aget_session_name(self, session_id: str | None = None) -> str:
        return await sync_to_async(self.get_session_name)(session_id)

    async def aset_session_name(
        self, session_id: str | None = None, session_name: str | None = None, *, autogenerate: bool = False
    ) -> str:
        return await sync_to_async(self.set_session_name)(session_id, session_name, autogenerate=autogenerate)

    async def adelete_session(self, session_id: str, user_id: str | None = None) -> bool:
        return await sync_to_async(self.delete_session)(session_id, user_id)

    async def aget_session_state(self, session_id: str | None = None) -> dict[str, Any]:
        return await sync_to_async(self.get_session_state)(session_id)

    async def aupdate_session_state(
        self, session_state_updates: dict[str, Any], session_id: str | None = None
    ) -> dict[str, Any]:
        return await sync_to_async(self.update_session_state)(session_state_updates, session_id)


# The runs going in this process, and those asked to stop (`Agent.cancel_run`, from any thread).
_RUNNING: set[str] = set()
_CANCELLED: set[str] = set()
_CANCEL_LOCK = threading.Lock()


def _cancellation_asked(run_id: str) -> bool:
    return run_id in _CANCELLED


def _forget_run(run_id: str) -> None:
    with _CANCEL_LOCK:
        _RUNNING.discard(run_id)
        _CANCELLED.discard(run_id)


def _stored_output(run: RunRecord, *, agent: Agent) -> RunOutput:
    """A stored run as the RunOutput it returned."""
    return RunOutput(
        content=run.content,
        run_id=run.run_id,
        session_id=run.session_id,
        user_id=run.user_id,
        status=run.status,
        messages=list(run.messages),
        metrics=RunMetrics(
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            total_tokens=run.total_tokens,
            duration_ms=run.duration_ms,
        ),
        error=run.error or None,
        agent_id=agent.id,
        agent_name=agent.name,
        model=run.model,
        model_provider=run.model_provider,
        created_at=int(run.created_at.timestamp()) if run.created_at else 0,
        input=run.input,
    )


def _print_reply(output: RunOutput, out: TextIO, *, markdown: bool) -> None:
    if output.status != "completed":
        out.write(f"[{output.status}] {output.error or ''}\n")
        if not output.content:
            return
    if markdown:
        try:
            from rich.console import Console
            from rich.markdown import Markdown
        except ImportError:  # rich is optional: the Markdown source reads well enough
            pass
        else:
            Console(file=out).print(Markdown(output.content))
            return
    out.write(output.content + "\n")


async def _tool_runner(
    fn: Callable[[Tool, dict[str, Any]], tuple[str, bool]], tool: Tool, arguments: dict[str, Any]
) -> tuple[str, bool]:
    # thread_sensitive: tools may write through a storage bound to the caller's sync thread (the ORM).
    return await sync_to_async(fn, thread_sensitive=True)(tool, arguments)


async def _afinal_output(events: AsyncGenerator[RunOutputEvent, None]) -> RunOutput:
    output: RunOutput | None = None
    async for event in events:
        if isinstance(event, _ENDINGS):
            output = event.output
    if output is None:  # pragma: no cover - _aexecute always ends the run
        raise RuntimeError("the run ended without an outcome")
    return output


# What a stream shows without stream_events: the reply's text, and how the run ended if not well.
_ALWAYS_SHOWN = (RunContent, RunError, RunCancelled)


def _shown(
    events: Iterator[RunOutputEvent], *, stream_events: bool, yield_run_output: bool
) -> Iterator[RunOutputEvent | RunOutput]:
    output: RunOutput | None = None
    for event in events:
        if isinstance(event, _ENDINGS):
            output = event.output
        if stream_events or isinstance(event, _ALWAYS_SHOWN):
            yield event
    if yield_run_output and output is not None:
        yield output


async def _ashown(
    events: AsyncIterator[RunOutputEvent], *, stream_events: bool, yield_run_output: bool
) -> AsyncIterator[RunOutputEvent | RunOutput]:
    output: RunOutput | None = None
    async for event in events:
        if isinstance(event, _ENDINGS):
            output = event.output
        if stream_events or isinstance(event, _ALWAYS_SHOWN):
            yield event
    if yield_run_output and output is not None:
        yield output


class AsyncRunStream:
    """What `arun(stream=True)` returns: iterate it with `async for` (the run begins on the first
    step), or await it for the same iterator with the run already begun (a refused session id is
    raised there)."""

    def __init__(self, begin: Callable[[], Awaitable[AsyncIterator[RunOutputEvent | RunOutput]]]) -> None:
        self._begin = begin

    def __await__(self) -> Generator[Any, None, AsyncIterator[RunOutputEvent | RunOutput]]:
        return self._begin().__await__()

    def __aiter__(self) -> AsyncIterator[RunOutputEvent | RunOutput]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[RunOutputEvent | RunOutput]:
        events = await self._begin()
        async for event in events:
            yield event


def _final_output(events: Generator[RunOutputEvent, None, None]) -> RunOutput:
    output: RunOutput | None = None
    for event in events:
        if isinstance(event, _ENDINGS):
            output = event.output
    if output is None:  # pragma: no cover - _execute always ends the run
        raise RuntimeError("the run ended without an outcome")
    return output


__all__: Sequence[str] = ["Agent"]
