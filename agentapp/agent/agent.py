"""The public Agent: one object, many users and sessions, state kept in its `db`."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Literal, overload

from asgiref.sync import markcoroutinefunction, sync_to_async

from agentapp.llm.embeddings import Embedder
from agentapp.llm.env import model_from_env
from agentapp.llm.types import Model

from .agent_session import AgentSession
from .events import RunOutput, RunOutputEvent
from .hooks import hooks_of, refuse_async_hooks
from .in_memory import InMemoryDb
from .loop import DEFAULT_MAX_TOOL_ROUNDS
from .memory.manager import MemoryManager
from .memory.query_embedding import QUERY_EMBED_TIMEOUT, QueryEmbedding, capped_query_embedding
from .memory.tools import MemoryTools
from .records import DEFAULT_USER_ID, RunHandle, UserMemory
from .run import cancel
from .run.context import system_instructions
from .run.continuing import ContinueRun
from .run.driver import INLINE, THREADED, Way, drive, iterate, result
from .run.followups import AfterRun, Followups, RunInline
from .run.output import AsyncRunStream, Printing, final_output, shown
from .run.resume import Resumed
from .run.turn import Turn
from .run_context import RunAsked, RunContext, merged_state
from .session.forks import SessionForks
from .session.ids import check_run_id, check_session_id
from .session.reads import SessionReads
from .session.summaries import SessionSummaryManager
from .settings import SETTING_NAMES, AgentSettings, Instructions
from .storage import AgentDb
from .structured import OutputSchema, check_schema, structured_model
from .toolkit import Toolkit
from .tools import Tool
from .twins import async_twin


class Agent(SessionReads, SessionForks, AfterRun, ContinueRun, Printing):
    """An agent with session history and per-user memory.

    Parameter names follow Agno's. `db` is where sessions, runs and memories live
    (`agentapp.db.DjangoDb()` for the Django database); without one, this process's memory
    (`InMemoryDb()`), as Agno's. `user_id` and `session_id` are defaults for every run; without a
    session id, the Agent starts one and keeps it, so the next run continues the thread (for the same
    person). `followups` decides where the work after a run happens; by default it is done before
    `run()` returns. `title_model` names new sessions in a few words; without one, a session is
    titled with the first words of its first message. `memory_manager` and
    `session_summary_manager` say how memories are captured and summaries written; without them,
    this agent's model with the built-in prompts.

    Memories reach the context within `memory_context_limit` (a count) and `memory_context_tokens`
    (a token budget, optional): all of them when they fit, else the best for the message by meaning
    (with an `embedder`, e.g. `LocalEmbedder()`), words and recency. The query's embedding waits at
    most `embed_timeout` seconds; past it, the turn recalls by words and recency.

    The settings (every argument but the collaborators above) are `settings`, and each also reads
    and changes as an attribute (`agent.markdown = True`): a run takes them as they are when it starts.
    """

    def __init__(
        self,
        *,
        model: Model | None = None,
        db: AgentDb | None = None,
        name: str = "agent",
        user_id: str | None = None,
        session_id: str | None = None,
        instructions: Instructions = None,
        description: str | None = None,
        markdown: bool = False,
        add_datetime_to_context: bool = False,
        timezone_identifier: str | None = None,
        datetime_format: str | None = None,
        add_name_to_context: bool = False,
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
        search_session_history: bool = False,
        num_history_sessions: int | None = None,
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
        tools: Iterable[Tool | MemoryTools | Toolkit | Callable[..., Any]] = (),
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        tool_hooks: Iterable[Callable[..., Any]] | None = None,
        output_schema: OutputSchema | None = None,
        pre_hooks: Iterable[Callable[..., Any] | Any] | None = None,
        post_hooks: Iterable[Callable[..., Any] | Any] | None = None,
        debug_mode: bool = False,
        cache_session: bool = False,
        store_media: bool = True,
        followups: Followups | None = None,
        title_model: Model | None = None,
        memory_manager: MemoryManager | None = None,
        session_summary_manager: SessionSummaryManager | None = None,
    ) -> None:
        self._adopt(locals())

    def _adopt(self, given: dict[str, Any]) -> None:
        """The constructor's arguments: its settings, then the collaborators and default ids."""
        self.settings = AgentSettings.from_arguments(given)
        model: Model | None = given["model"]
        self.model: Model = model if model is not None else model_from_env()
        self.db: AgentDb = given["db"] if given["db"] is not None else InMemoryDb()
        self.user_id: str | None = given["user_id"]
        session_id: str | None = given["session_id"]
        self.session_id = check_session_id(session_id) if session_id else None
        self._session_owner = self.user_id if session_id else None  # whose thread the kept session is
        self.embedder: Embedder | None = given["embedder"]
        self.followups: Followups = given["followups"] if given["followups"] is not None else RunInline()
        self.title_model: Model | None = given["title_model"]
        self.memory_manager: MemoryManager | None = given["memory_manager"]
        self.session_summary_manager: SessionSummaryManager | None = given["session_summary_manager"]
        self._run_asks: dict[str, RunAsked] = {}  # what a run was asked beyond its message, until it starts

    def __getattr__(self, name: str) -> Any:
        settings = self.__dict__.get("settings")
        if settings is None or name not in SETTING_NAMES:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(settings, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in SETTING_NAMES and "settings" in self.__dict__:
            value, name = self.settings.changed(**{name: value}), "settings"
        object.__setattr__(self, name, value)

    # --- running -----------------------------------------------------------------------------------
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
        add_history_to_context: bool | None = None,
        add_session_state_to_context: bool | None = None,
        dependencies: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
        output_schema: OutputSchema | None = None,
        debug_mode: bool | None = None,
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
        add_history_to_context: bool | None = None,
        add_session_state_to_context: bool | None = None,
        dependencies: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
        output_schema: OutputSchema | None = None,
        debug_mode: bool | None = None,
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
        add_history_to_context: bool | None = None,
        add_session_state_to_context: bool | None = None,
        dependencies: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
        output_schema: OutputSchema | None = None,
        debug_mode: bool | None = None,
    ) -> RunOutput | Iterator[RunOutputEvent | RunOutput]:
        """Run one turn and return its RunOutput. With stream=True, an iterator of the reply's content
        events (each with `.content`) and, should the run fail or stop, its RunError or RunCancelled;
        with stream_events=True every event (the run's start, tool calls, memory and summary work,
        RunCompleted); with yield_run_output=True, the RunOutput last. The work after the run (the
        automatic memory update, the summary) is done before RunCompleted, so a consumer that stops
        reading there loses none of it. `run_id` is the caller's choice of the run's id (one a stored run
        has is refused: RunIdTaken); `add_history_to_context` and `add_session_state_to_context` are
        this run's over the Agent's; `dependencies` and `metadata` reach its tools on `run_context`,
        and `metadata` comes back on the RunOutput. With `output_schema` (this run's over the Agent's)
        the model is asked for JSON by that schema and the RunOutput's `content` is its value; a reply
        that does not match ends the run as an error, its text kept."""
        asked = RunAsked.of(
            session_state,
            add_history_to_context=add_history_to_context,
            add_session_state_to_context=add_session_state_to_context,
            dependencies=dependencies,
            metadata=metadata,
            output_schema=check_schema(output_schema),
            debug_mode=debug_mode,
        )
        refuse_async_hooks(hooks_of(self.settings.pre_hooks) + hooks_of(self.settings.post_hooks))
        run = self._begin(input, user_id=user_id, session_id=session_id, run_id=run_id, asked=asked)
        events = self._drive(run, INLINE, stream=stream)
        if not stream:
            return result(final_output(events))
        return iterate(shown(events, stream_events=stream_events, yield_run_output=yield_run_output))

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
        add_history_to_context: bool | None = None,
        add_session_state_to_context: bool | None = None,
        dependencies: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
        output_schema: OutputSchema | None = None,
        debug_mode: bool | None = None,
    ) -> Any:
        """`run` for async callers: `await agent.arun(...)` for the RunOutput; with stream=True,
        `async for event in agent.arun(..., stream=True)` directly (awaiting it gives the same
        iterator, with the run begun)."""

        asked = RunAsked.of(
            session_state,
            add_history_to_context=add_history_to_context,
            add_session_state_to_context=add_session_state_to_context,
            dependencies=dependencies,
            metadata=metadata,
            output_schema=check_schema(output_schema),
            debug_mode=debug_mode,
        )

        async def begun() -> AsyncGenerator[RunOutputEvent, None]:
            begin = sync_to_async(self._begin)
            run = await begin(input, user_id=user_id, session_id=session_id, run_id=run_id, asked=asked)
            return self._drive(run, THREADED, stream=stream)

        async def output() -> RunOutput:
            return await final_output(await begun())

        async def streamed() -> AsyncIterator[RunOutputEvent | RunOutput]:
            return shown(await begun(), stream_events=stream_events, yield_run_output=yield_run_output)

        return AsyncRunStream(streamed) if stream else output()

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
        events = self._drive(run, INLINE, stream=stream)
        return iterate(events) if stream else result(final_output(events))

    @overload
    async def arun_pending(self, run_id: str, *, stream: Literal[False] = False) -> RunOutput | None: ...

    @overload
    async def arun_pending(
        self, run_id: str, *, stream: Literal[True]
    ) -> AsyncGenerator[RunOutputEvent, None] | None: ...

    async def arun_pending(
        self, run_id: str, *, stream: bool = False
    ) -> RunOutput | AsyncGenerator[RunOutputEvent, None] | None:
        claim = sync_to_async(self.db.run_claim)
        run = await claim(run_id=run_id, model_id=self.model.id, model_provider=self.model.provider)
        if run is None:
            return None
        events = self._drive(run, THREADED, stream=stream)
        return events if stream else await final_output(events)

    def cancel_run(self, run_id: str) -> bool:
        """Stop a run of this process at its next step (Agno's `cancel_run`): it ends as cancelled,
        keeping what was said, and its stream yields RunCancelled. False for a run not going here."""
        return cancel.ask(run_id)

    # --- one run -----------------------------------------------------------------------------------
    def _identity(self, user_id: str | None, session_id: str | None) -> tuple[str, str]:
        """Who the run is for and in which thread: the run's, else the Agent's, else the default user
        and (kept on the Agent for the next run) a new session. A kept session is another person's
        only when the next run names another user: that person gets a thread of their own."""
        user = user_id or self.user_id or DEFAULT_USER_ID
        if session_id:
            return user, check_session_id(session_id)
        if not self.session_id or self._session_owner not in (None, user):
            self.session_id = f"ses_{uuid.uuid4().hex}"
        self._session_owner = user
        return user, self.session_id

    def _begin(
        self,
        message: str,
        *,
        user_id: str | None,
        session_id: str | None,
        run_id: str | None = None,
        asked: RunAsked,
    ) -> RunHandle:
        if run_id is not None:
            check_run_id(run_id)
        user, session = self._identity(user_id, session_id)
        model = self.model
        run = self.db.run_begin(
            user_id=user,
            session_id=session,
            agent_name=self.settings.name,
            message=message,
            model_id=model.id,
            model_provider=model.provider,
            **({"run_id": run_id} if run_id is not None else {}),
        )
        if asked != RunAsked():
            self._run_asks[run.run_id] = asked
        return run

    def _drive(
        self, run: RunHandle, way: Way, *, stream: bool, resumed: Resumed | None = None
    ) -> AsyncGenerator[RunOutputEvent, None]:
        return drive(
            lambda: self._turn(run, resumed),
            way,
            stream=stream,
            followups=self.after_run,
            alongside=self.memory_alongside,
        )

    def _turn(self, run: RunHandle, resumed: Resumed | None = None) -> Turn:
        # The run's session state, by Agno's precedence: the run's over the stored one over the
        # Agent's default (with overwrite_db_session_state, the run's replaces the stored one).
        asked = self._run_asks.pop(run.run_id, RunAsked())
        settings = self.settings.changed(**asked.settings) if asked.settings else self.settings
        given = asked.session_state
        stored = None if (settings.overwrite_db_session_state and given is not None) else run.session_state
        state = merged_state(settings.session_state, stored, given)
        schema = asked.output_schema if asked.output_schema is not None else settings.output_schema
        run_context = RunContext(
            run.run_id, run.session_id, run.user_id, state, asked.dependencies, asked.metadata, schema
        )
        model, told = structured_model(self.model, schema) if schema is not None else (self.model, "")
        instructions = system_instructions(settings, run_context, agent=self)
        return Turn(
            settings=settings,
            instructions=f"{instructions}\n\n{told}" if told else instructions,
            model=model,
            db=self.db,
            run=run,
            started_at=time.time(),
            query_embedding=self.query_embedding(),
            run_context=run_context,
            memory_writes=self.memory_manager.tools_allowed() if self.memory_manager else None,
            output_schema=schema,
            agent=self,
            resumed=resumed,
        )

    def query_embedding(self) -> QueryEmbedding | None:
        """How this agent embeds a recall query (its embedder, capped at `embed_timeout`), or None."""
        if self.embedder is None:
            return None
        return capped_query_embedding(self.embedder, timeout=self.settings.embed_timeout)

    def system_instructions(self, run_context: RunContext | None = None) -> str:
        """What the system message opens with (see run.context.system_instructions)."""
        return system_instructions(self.settings, run_context, agent=self)

    def get_user_memories(
        self, user_id: str | None = None, *, as_of: datetime | None = None, include_superseded: bool = False
    ) -> list[UserMemory]:
        """The person's memories (the Agent's user, else "default"), oldest first as Agno's: those
        true now, or at `as_of`; past facts too with `include_superseded`."""
        return self.db.get_user_memories(
            user_id or self.user_id or DEFAULT_USER_ID, as_of=as_of, include_superseded=include_superseded
        )

    def save_session(self, session: AgentSession) -> None:
        """Store the session's name and state (Agno's `save_session`; its runs are stored as they run)."""
        self.db.upsert_session(session)

    aget_user_memories = async_twin(get_user_memories)
    asave_session = async_twin(save_session)


__all__: Sequence[str] = ["Agent"]
