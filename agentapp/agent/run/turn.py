"""One run of the agent: load its context, turn each loop event into stream events and timeline
entries, and always end the run, whatever happens."""

from __future__ import annotations

import logging
import time

from agentapp.llm import types as llm
from agentapp.llm.types import Message, Model, TextDelta, Usage

from .. import loop
from ..errors import InvalidInput, StorageUnavailable
from ..events import (
    MemoryUpdated,
    ModelRequestCompleted,
    ModelRequestStarted,
    ModelRetrying,
    RunCancelled,
    RunCompleted,
    RunContent,
    RunContentCompleted,
    RunError,
    RunOutput,
    RunOutputEvent,
    RunPaused,
    ToolCallCompleted,
    ToolCallError,
    ToolCallStarted,
)
from ..hooks import check_message, is_check_error
from ..memory.query_embedding import QueryEmbedding
from ..memory.recall import Recall, RecallQuery, all_of, asks_about_past
from ..memory.tools import SEARCH_TOOL_LIMIT, memory_tools
from ..metrics import RunMetrics, model_details
from ..records import ContextData, RunHandle, UserMemory
from ..requirements import ToolExecution, paused_content, pending_tools
from ..run_context import RunContext, fill_placeholders, session_state_tool
from ..session import titles
from ..session.history import replayed, to_store
from ..session.previous import previous_sessions_tool
from ..session.tools import chat_history_tool, past_sessions_tool, tool_call_history_tool
from ..settings import AgentSettings
from ..storage import AgentDb, ContextQuery
from ..structured import OutputSchema
from ..telemetry import RunTelemetry
from ..timeline import Timeline, ms_between, to_datetime
from ..tools import Tool
from . import debug_log
from .context import AssembledContext, build_context, person_instructions
from .failures import failure_message, failure_record
from .guards import Guards
from .resume import Resumed, run_requirements, tool_ran

logger = logging.getLogger(__name__)
Ending = loop.LoopFinished | loop.LoopPaused | loop.LoopFailed | None


class Turn:
    """One run: its settings (as they were when it started), the system instructions made for it, and
    the memory writes the model may make (None: add, update and delete)."""

    def __init__(
        self,
        *,
        settings: AgentSettings,
        instructions: str,
        model: Model,
        db: AgentDb,
        run: RunHandle,
        started_at: float,
        query_embedding: QueryEmbedding | None = None,
        run_context: RunContext | None = None,
        memory_writes: dict[str, bool] | None = None,
        output_schema: OutputSchema | None = None,
        agent: object = None,
        resumed: Resumed | None = None,
    ) -> None:
        self.settings = settings
        self.instructions = instructions
        self.memory_writes = memory_writes
        self.run_context = run_context or RunContext(
            run.run_id, run.session_id, run.user_id, dict(run.session_state)
        )
        self.query_embedding = query_embedding
        self.model = model
        self.db = db
        self.run = run
        self.started_at = started_at
        self.timeline = Timeline(db, run)
        self.guards = Guards(settings, run, self.run_context, db, self.timeline, agent, output_schema)
        self.telemetry = RunTelemetry(run=run, model=model, agent_name=settings.name, started_at=started_at)
        self.context: AssembledContext | None = None
        self.recall: Recall | None = None
        # A paused run going on (continue_run): its messages so far, its calls and the caller's answers.
        self.resumed = resumed
        self.tool_executions: list[ToolExecution] = resumed.tools_so_far() if resumed else []
        self.memory_changes: list[MemoryUpdated] = []
        self.output: RunOutput | None = None
        self.history: list[Message] = []
        # The run's events as they are yielded (store_events), shared with its RunOutput.
        self.events: list[RunOutputEvent] | None = [] if settings.store_events else None
        self.partial: list[str] = []
        self.retries: list[llm.ModelRetrying] = []  # of the model request under way
        # The loop's ending, kept so that a crash while storing it still stores its reply.
        self.ending: loop.LoopFinished | loop.LoopPaused | loop.LoopFailed | None = None

    @property
    def finished(self) -> bool:
        return self.output is not None

    @property
    def completed(self) -> bool:
        return self.output is not None and self.output.status == "completed"

    def keep(self, event: RunOutputEvent) -> RunOutputEvent:
        """Note a yielded event on the run's output (store_events; content chunks are not kept)."""
        if self.events is not None and not isinstance(event, RunContent):
            self.events.append(event)
        return event

    # --- before the loop ---------------------------------------------------------
    def _query(self) -> ContextQuery:
        settings = self.settings
        memories = RecallQuery(
            text=self.guards.run_input.input_content,
            limit=settings.memory_context_limit,
            tokens=settings.memory_context_tokens,
            embed=self.query_embedding,
            include_past=asks_about_past(self.run.input),
        )
        return ContextQuery(
            run=self.run,
            num_history_runs=settings.history_runs,
            num_history_messages=settings.history_messages,
            memories=memories
            if settings.add_memories_to_context and self.run.controls.reads_memories
            else None,
            with_summary=settings.add_session_summary_to_context,
        )

    def prepare(self) -> tuple[tuple[Message, ...], list[Tool]]:
        """The request's messages and the run's tools, from the context the storage loads, hooks first."""
        if self.resumed is None:  # a paused run going on had its hooks when it began
            self.guards.before()
        started = time.time()
        return self._assemble(self.db.context_load(**self._query()), started)

    async def aprepare(self) -> tuple[tuple[Message, ...], list[Tool]]:
        if self.resumed is None:
            await self.guards.abefore()
        started = time.time()
        return self._assemble(await self.db.acontext_load(**self._query()), started)

    def _assemble(self, data: ContextData, started: float) -> tuple[tuple[Message, ...], list[Tool]]:
        loaded = time.time()
        self.history = replayed(data.history, max_tool_calls=self.settings.max_tool_calls_from_history)
        context = build_context(
            instructions=self.instructions,
            message=fill_placeholders(self.guards.run_input.input_content, self.run_context.session_state),
            history=self.history,
            memories=data.memories,
            summary=data.summary,
            agentic_memory=self.settings.enable_agentic_memory and self.run.controls.writes_memories,
            person=person_instructions(self.run.controls.about_you, self.run.controls.how_to_respond),
        )
        self.context = context
        debug_log.run_started(self.settings, self.run, context.messages)
        recall: Recall = data.recall if isinstance(data.recall, Recall) else all_of(data.memories)
        self.recall = recall
        self.timeline.record(
            kind="context",
            name="context",
            started_at=to_datetime(started),
            ended_at=to_datetime(time.time()),
            input_tokens=context.total_tokens,
            payload={
                "sections": [vars(section) for section in context.sections],
                "memories_used": list(context.memories_used),
                "total_tokens": context.total_tokens,
                "recall": recall.to_dict(),
                **({"trace_id": self.telemetry.trace_id} if self.telemetry.trace_id else {}),
            },
        )
        self.telemetry.context_assembled(
            started=started,
            loaded=loaded,
            memory_ids=context.memories_used,
            memories_total=recall.total,
            tokens=context.total_tokens,
        )
        so_far = self.resumed.messages if self.resumed else ()  # what the paused run had said and heard
        return (*context.messages, *so_far), self._tools(recall)

    def _tools(self, recall: Recall) -> list[Tool]:
        """The run's tools: the Agent's (bound to the run), its toolkits', and those its settings ask for."""
        settings, db, run = self.settings, self.db, self.run
        tools = [tool.for_run(self.run_context, settings.tool_hooks) for tool in settings.tools]
        for toolkit in settings.toolkits:
            tools.extend(toolkit.tools_for_run(db=db, run=run, on_change=self._memory_changed))
        if settings.enable_agentic_state:
            tools.append(session_state_tool(self.run_context))
        if settings.read_chat_history:
            tools.append(chat_history_tool(db=db, run=run))
        if settings.read_tool_call_history:
            tools.append(tool_call_history_tool(db=db, run=run))
        if settings.search_past_sessions and not run.controls.temporary:  # a temporary chat reads no other
            sessions, runs_each = (
                settings.num_past_sessions_to_search,
                settings.num_past_session_runs_in_search,
            )
            tools.append(past_sessions_tool(db=db, run=run, sessions=sessions, runs_each=runs_each))
        if settings.search_session_history and not run.controls.temporary:
            tools.append(previous_sessions_tool(db=db, run=run, sessions=settings.num_history_sessions))
        controls = run.controls
        if settings.enable_agentic_memory and (controls.reads_memories or controls.writes_memories):
            # What the person allows: no writes offered when nothing may be learned, no search when
            # their memories are not to be used (a temporary chat: neither).
            no_writes = {"add": False, "update": False, "delete": False}
            tools += memory_tools(
                db=db,
                run=run,
                actor="model",
                on_change=self._memory_changed,
                embed=self.query_embedding,
                search_limit=SEARCH_TOOL_LIMIT if controls.reads_memories else None,
                already_shown=recall.ids,
                allowed=self.memory_writes if controls.writes_memories else no_writes,
            )
        return tools

    def _memory_changed(self, action: str, memory: UserMemory) -> None:
        self.memory_changes.append(MemoryUpdated(self.run.run_id, action, memory.stored_id, memory.memory))
        self.telemetry.memory_written(action=action, memory_id=memory.stored_id)

    # --- each loop event ---------------------------------------------------------
    @staticmethod
    def handling_touches_storage(event: loop.LoopEvent) -> bool:
        """Whether `handle(event)` writes (an async caller runs those in a thread, the rest inline)."""
        return isinstance(event, loop.ToolExecutionStarted | loop.LoopFinished | loop.LoopFailed)

    def handle(self, event: loop.LoopEvent) -> list[RunOutputEvent]:
        run_id = self.run.run_id
        if isinstance(event, TextDelta):
            self.partial.append(event.text)
            return [RunContent(run_id, event.text)]
        if isinstance(event, loop.ModelRequestStarted):
            self.partial, self.retries = [], []
            return [ModelRequestStarted(run_id, self.model.id, self.model.provider)]
        if isinstance(event, llm.ModelRetrying):
            self.retries.append(event)
            return [ModelRetrying(run_id, event.attempt, event.attempts, event.delay, event.reason)]
        if isinstance(event, loop.ModelRequestFinished | loop.ModelRequestFailed):
            layout = self.context.layout if self.context else ()
            self.timeline.model_request(event, name=self.model.id, layout=layout, retries=self.retries)
            self.telemetry.model_request(event, model_id=self.model.id)
            return [self._request_completed(event)] if isinstance(event, loop.ModelRequestFinished) else []
        if isinstance(event, loop.ToolExecutionStarted):
            debug_log.tool_call(self.settings, event.call.name, event.call.arguments)
            self.timeline.flush()  # so a slow tool's run page already shows what came before
            return [ToolCallStarted(run_id, event.call.id, event.call.name, event.call.arguments)]
        if isinstance(event, loop.ToolExecutionFinished):
            self.timeline.tool_execution(event)
            self.telemetry.tool_call(event)
            ran = tool_ran(self.tool_executions, self.resumed, event)
            changes, self.memory_changes = self.memory_changes, []
            completed = ToolCallCompleted(
                run_id, event.call.id, event.call.name, event.result, event.is_error
            )
            errors = [ToolCallError(run_id, ran, event.result)] if event.is_error else []
            return [*self._stamped(event), *changes, completed, *errors]
        if isinstance(event, loop.LoopFinished):
            refused = self.guards.refusal(
                event.content, lambda: self._output("completed", event, event.content, preview=True)
            )
            if refused is not None:  # the run fails, the reply's text kept
                output = self._finish("error", event, event.content, error=refused)
                return [RunError(run_id, refused, output)]
            output = self._finish("completed", event, event.content)
            return [RunContentCompleted(run_id), RunCompleted(run_id, output)]
        if isinstance(event, loop.LoopPaused):
            content = paused_content(pending_tools(event.pending, self.settings.tools))
            return [RunPaused(run_id, self._finish("paused", event, content))]
        if isinstance(event, loop.LoopFailed):
            error, received = event.error, event.partial_content
            took = time.time() - self.started_at  # what the person waited, the SDK's retries included
            message = failure_message(error, waited_seconds=took, received=received)
            self.timeline.error(message, failure_record(error, waited_seconds=took, received=received))
            output = self._finish("error", event, received, error=message)
            return [RunError(run_id, message, output)]
        raise TypeError(f"unexpected loop event {event!r}")

    def _request_completed(self, event: loop.ModelRequestFinished) -> ModelRequestCompleted:
        usage, ttft = event.response.usage, event.response.ttft_ms
        return ModelRequestCompleted(
            self.run.run_id,
            self.model.id,
            self.model.provider,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            total_tokens=usage.total_tokens,
            time_to_first_token=None if ttft is None else max(0, ttft) / 1000,
        )

    def _stamped(self, event: loop.ToolExecutionFinished) -> list[RunOutputEvent]:
        """A tool's own events, as Agno stamps them: with the run, the session, the agent, the call."""
        for custom in event.custom_events:
            custom.run_id, custom.session_id = self.run.run_id, self.run.session_id
            custom.agent_id, custom.agent_name = self.settings.id, self.settings.name
            custom.tool_call_id = event.call.id
        return list(event.custom_events)

    def _outcome(self, event: Ending) -> tuple[list[Message], Usage, float | None]:
        """New messages, usage and first-token time; without a loop ending, what was streamed so far.
        A paused run going on adds what it had used before the pause."""
        before = self.resumed.usage if self.resumed else Usage()
        if event is not None:
            return list(event.new_messages), before + event.usage, event.first_token_at
        partial = [Message(role="assistant", content="".join(self.partial))] if self.partial else []
        return partial, before, None

    def _finish(self, status: str, event: Ending, content: str, *, error: str = "") -> RunOutput:
        if event is not None:
            self.ending = event
        new_messages, usage, first_token_at = self._outcome(event)
        memories_used = self.context.memories_used if self.context else ()
        self.db.run_finish(
            run=self.run,
            status=status,
            content=content,
            messages=to_store(
                new_messages,
                self.history,
                store_tool_messages=self.settings.store_tool_messages or status == "paused",  # its calls
                store_history_messages=self.settings.store_history_messages and self.resumed is None,
            ),
            usage=usage,
            started_at=to_datetime(self.started_at),
            first_token_at=to_datetime(first_token_at) if first_token_at else None,
            error=error,
            memories_used=memories_used,
            events=self.timeline.take(),
        )
        if status not in ("completed", "paused"):  # before the ending is told: the chat's last frame shows it
            titles.title_without_reply(self.db, self.run)
        self._save_session_state()
        self.output = self._output(status, event, content, error=error)
        debug_log.run_ended(self.settings, self.output)
        return self.output

    def _save_session_state(self) -> None:
        """What the run's tools changed in the session state (or the run's own state) is kept."""
        state = self.run_context.session_state
        if state == self.run.session_state:
            return
        try:
            self.db.session_state_set(session_id=self.run.session_id, state=state)
        except InvalidInput as error:  # a tool put something in it that is not JSON: the reply stands
            logger.warning("run %s: session state not saved: %s", self.run.run_id, error)

    def _output(
        self, status: str, event: Ending, content: str, *, error: str = "", preview: bool = False
    ) -> RunOutput:
        """The RunOutput; a `preview` (what post-hooks see) leaves the run's telemetry going."""
        new_messages, usage, first_token_at = self._outcome(event)
        if not preview:
            self.telemetry.finished(status=status, usage=usage, first_token_at=first_token_at, error=error)
        # As Agno composes them: the system message, the history replayed, the new message, the reply.
        sent = self.context.messages if self.context else (Message(role="user", content=self.run.input),)
        sent = (*sent, *(self.resumed.messages if self.resumed else ()))
        waiting = (
            pending_tools(event.pending, self.settings.tools) if isinstance(event, loop.LoopPaused) else []
        )
        tools = [*self.tool_executions, *waiting]
        return RunOutput(
            **self.guards.content(status, content),
            run_id=self.run.run_id,
            session_id=self.run.session_id,
            user_id=self.run.user_id,
            status=status,
            messages=[*sent, *new_messages],
            metrics=RunMetrics(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                total_tokens=usage.total_tokens,
                duration_ms=ms_between(self.started_at, time.time()) or 0,
                ttft_ms=ms_between(self.started_at, first_token_at),
                model_requests=event.model_requests if event else 0,
                tool_calls=event.tool_calls if event else 0,
                details=model_details(
                    model_id=self.model.id,
                    provider=self.model.provider,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    total_tokens=usage.total_tokens,
                )
                if event and event.model_requests
                else None,
            ),
            error=error or None,
            memories_used=list(self.context.memories_used if self.context else ()),
            session_state=self.run_context.session_state,
            metadata=self.run_context.metadata,
            agent_id=self.settings.id,
            agent_name=self.settings.name,
            model=self.model.id,
            model_provider=self.model.provider,
            created_at=int(self.started_at),
            input=self.guards.run_input.input_content,
            tools=tools,
            events=self.events,
            requirements=run_requirements(self.resumed, waiting),
        )

    # --- endings that are not the loop's own ---------------------------------------
    def cancel(self) -> RunCancelled:
        """The consumer stopped listening: keep what was said, end the run as cancelled."""
        output = self._finish("cancelled", None, "".join(self.partial))
        return RunCancelled(self.run.run_id, output)

    def crash(self, exc: BaseException) -> RunError:
        if isinstance(exc, StorageUnavailable):
            message, kind = f"The run could not be stored: {exc.message}", "storage"
            logger.warning("run %s: %s", self.run.run_id, message)
        elif is_check_error(exc):  # a pre-hook refused the input (Agno's InputCheckError)
            message, kind = check_message(exc), "input_check"
            logger.warning("run %s: a pre-hook refused the input: %s", self.run.run_id, message)
        else:
            message, kind = f"Internal error: {type(exc).__name__}: {exc}", "internal"
            logger.exception("run %s failed", self.run.run_id, exc_info=exc)
        self.timeline.error(message, {"kind": kind})
        # What the model said is kept: the whole reply when the loop had ended, else the text so far.
        ending = self.ending
        if isinstance(ending, loop.LoopFinished):
            partial = ending.content
        elif isinstance(ending, loop.LoopPaused):
            partial = ""
        else:
            partial = ending.partial_content if ending is not None else "".join(self.partial)
        if kind == "input_check" and not partial:
            partial = message  # as Agno: the refusal is the content of a run that said nothing
        try:
            self._finish("error", ending, partial, error=message)
        except Exception:
            # The storage itself is failing (it already retried what it could): the stale-run sweep
            # ends the run later; the caller still hears that it failed.
            logger.exception("could not record the failure of run %s", self.run.run_id)
        if self.output is None:
            self.output = self._output("error", ending, partial, error=message)
        return RunError(self.run.run_id, message, self.output)
