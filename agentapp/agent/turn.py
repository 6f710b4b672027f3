"""One run of the agent: load its context, record every loop event through `db`, always end it.

The run's timeline entries are buffered and stored with its outcome, in the one transaction that
ends it (or just before a tool runs, so a slow tool's run shows its progress): a plain turn then
costs no writes between its start and its end.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from agentapp.llm.types import Message, ModelError, TextDelta, Usage

from . import loop
from .context import build_context, build_memory_manager_context
from .events import (
    MemoryUpdated,
    RunCancelled,
    RunCompleted,
    RunContent,
    RunError,
    RunEvent,
    RunMetrics,
    RunOutput,
    ToolCallCompleted,
    ToolCallStarted,
)
from .memory_tools import memory_tools
from .records import EventRecord, RunHandle, UserMemory
from .timeutil import ms_between, to_datetime
from .tools import Tool

if TYPE_CHECKING:
    from .agent import Agent

logger = logging.getLogger(__name__)


class Turn:
    def __init__(self, agent: Agent, run: RunHandle, *, started_at: float) -> None:
        self.agent = agent
        self.db = agent.db
        self.run = run
        self.started_at = started_at
        self.memories_used: tuple[str, ...] = ()
        self.memory_changes: list[MemoryUpdated] = []
        self.output: RunOutput | None = None
        self.partial: list[str] = []
        # Why the automatic memory update failed, so a background task can retry a transient error.
        self.memory_error: ModelError | None = None
        self.pending_events: list[EventRecord] = []

    @property
    def finished(self) -> bool:
        return self.output is not None

    @property
    def completed(self) -> bool:
        return self.output is not None and self.output.status == "completed"

    # --- before the loop ---------------------------------------------------------
    def prepare(self, *, then_idle: bool = False) -> tuple[tuple[Message, ...], list[Tool]]:
        agent = self.agent
        started = time.time()
        data = self.db.context_load(
            run=self.run,
            num_history_runs=agent.num_history_runs if agent.add_history_to_context else 0,
            num_history_messages=agent.num_history_messages if agent.add_history_to_context else None,
            with_memories=agent.add_memories_to_context,
            memory_limit=agent.memory_context_limit,
            with_summary=agent.add_session_summary_to_context,
        )
        context = build_context(
            instructions=agent.instructions,
            message=self.run.input,
            history=data.history,
            memories=data.memories,
            summary=data.summary,
            agentic_memory=agent.enable_agentic_memory,
        )
        self.memories_used = context.memories_used
        self._record(
            kind="context",
            name="context",
            started_at=to_datetime(started),
            ended_at=to_datetime(time.time()),
            input_tokens=context.total_tokens,
            payload={
                "sections": [vars(section) for section in context.sections],
                "memories_used": list(context.memories_used),
                "total_tokens": context.total_tokens,
            },
        )
        tools = list(agent.tools)
        if agent.enable_agentic_memory:
            tools.extend(self._memory_tools(actor="model"))
        if then_idle:
            self.db.idle()
        return context.messages, tools

    def _memory_tools(self, *, actor: str) -> list[Tool]:
        def on_change(action: str, memory: UserMemory) -> None:
            self.memory_changes.append(
                MemoryUpdated(self.run.run_id, action, memory.memory_id, memory.memory)
            )

        return memory_tools(db=self.db, run=self.run, actor=actor, on_change=on_change)

    # --- each loop event ---------------------------------------------------------
    @staticmethod
    def handling_touches_storage(event: loop.LoopEvent) -> bool:
        """Whether `handle(event)` writes (an async caller runs those in a thread, the rest inline)."""
        return isinstance(event, loop.ToolCallStarted | loop.LoopFinished | loop.LoopFailed)

    def handle(self, event: loop.LoopEvent) -> list[RunEvent]:
        run_id = self.run.run_id
        if isinstance(event, TextDelta):
            self.partial.append(event.text)
            return [RunContent(run_id, event.text)]
        if isinstance(event, loop.ModelRequestStarted):
            self.partial = []
            return []
        if isinstance(event, loop.ModelRequestFinished | loop.ModelRequestFailed):
            self._record_model_request(event, name=self.agent.model.id)
            return []
        if isinstance(event, loop.ToolCallStarted):
            self.flush()
            return [ToolCallStarted(run_id, event.call.id, event.call.name, event.call.arguments)]
        if isinstance(event, loop.ToolCallFinished):
            self._record_tool_call(event)
            changes, self.memory_changes = self.memory_changes, []
            return [
                *changes,
                ToolCallCompleted(run_id, event.call.id, event.call.name, event.result, event.is_error),
            ]
        if isinstance(event, loop.LoopFinished):
            return [RunCompleted(run_id, self._finish("completed", event, event.content))]
        if isinstance(event, loop.LoopFailed):
            self._record_error(
                event.error.message, {"kind": event.error.kind, "status_code": event.error.status_code}
            )
            output = self._finish("error", event, event.partial_content, error=event.error.message)
            return [RunError(run_id, event.error.message, output)]
        raise TypeError(f"unexpected loop event {event!r}")

    def _record_model_request(
        self, event: loop.ModelRequestFinished | loop.ModelRequestFailed, *, name: str
    ) -> None:
        payload: dict[str, Any] = {
            "round": event.round,
            "request": {"messages": [m.to_dict() for m in event.messages]},
        }
        if isinstance(event, loop.ModelRequestFinished):
            response = event.response
            payload["response"] = {
                "text": response.text,
                "tool_calls": [c.to_dict() for c in response.tool_calls],
            }
            payload["ttft_ms"] = response.ttft_ms
            payload["model_id"] = response.model_id
            self._record(
                kind="model_request",
                name=name,
                started_at=to_datetime(response.started_at),
                ended_at=to_datetime(response.ended_at),
                input_tokens=response.usage.input_tokens,
                output_tokens=response.usage.output_tokens,
                payload=payload,
            )
        else:
            payload["error"] = {"message": event.error.message, "kind": event.error.kind}
            payload["partial_text"] = event.partial_text
            self._record(
                kind="model_request",
                name=name,
                started_at=to_datetime(event.started_at),
                ended_at=to_datetime(event.ended_at),
                payload=payload,
            )

    def _record_tool_call(self, event: loop.ToolCallFinished) -> None:
        self._record(
            kind="tool_call",
            name=event.call.name,
            started_at=to_datetime(event.started_at),
            ended_at=to_datetime(event.ended_at),
            payload={
                "tool_call_id": event.call.id,
                "arguments": event.call.arguments,
                "result": event.result,
                "is_error": event.is_error,
            },
        )

    def _record_error(self, message: str, payload: dict[str, Any]) -> None:
        now = to_datetime(time.time())
        self._record(
            kind="error",
            name="error",
            started_at=now,
            ended_at=now,
            payload={"message": message, **payload},
        )

    def _record(self, **fields: Any) -> None:
        self.pending_events.append(EventRecord(**fields))

    def flush(self) -> None:
        """Store the buffered timeline entries now (the run's end stores them otherwise)."""
        if self.pending_events:
            self.db.run_events_record(run=self.run, events=self.pending_events)
            self.pending_events = []

    def _outcome(
        self, event: loop.LoopFinished | loop.LoopFailed | None
    ) -> tuple[list[Message], Usage, float | None]:
        """New messages, usage and first-token time; without a loop ending, what was streamed so far."""
        if event is not None:
            return list(event.new_messages), event.usage, event.first_token_at
        partial = [Message(role="assistant", content="".join(self.partial))] if self.partial else []
        return partial, Usage(), None

    def _finish(
        self, status: str, event: loop.LoopFinished | loop.LoopFailed | None, content: str, *, error: str = ""
    ) -> RunOutput:
        new_messages, usage, first_token_at = self._outcome(event)
        self.db.run_finish(
            run=self.run,
            status=status,
            content=content,
            messages=new_messages,
            usage=usage,
            started_at=to_datetime(self.started_at),
            first_token_at=to_datetime(first_token_at) if first_token_at else None,
            error=error,
            memories_used=self.memories_used,
            events=self.pending_events,
        )
        self.pending_events = []
        self.output = self._output(status, event, content, error=error)
        return self.output

    def _output(
        self, status: str, event: loop.LoopFinished | loop.LoopFailed | None, content: str, *, error: str = ""
    ) -> RunOutput:
        new_messages, usage, first_token_at = self._outcome(event)
        return RunOutput(
            content=content,
            run_id=self.run.run_id,
            session_id=self.run.session_id,
            user_id=self.run.user_id,
            status=status,
            messages=[Message(role="user", content=self.run.input), *new_messages],
            metrics=RunMetrics(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                total_tokens=usage.total_tokens,
                duration_ms=ms_between(self.started_at, time.time()) or 0,
                ttft_ms=ms_between(self.started_at, first_token_at),
                model_requests=event.model_requests if event else 0,
                tool_calls=event.tool_calls if event else 0,
            ),
            error=error or None,
            memories_used=list(self.memories_used),
        )

    # --- endings that are not the loop's own ---------------------------------------
    def cancel(self) -> RunCancelled:
        """The consumer stopped listening: keep what was said, end the run as cancelled."""
        output = self._finish("cancelled", None, "".join(self.partial))
        return RunCancelled(self.run.run_id, output)

    def crash(self, exc: BaseException) -> RunError:
        message = f"Internal error: {type(exc).__name__}: {exc}"
        logger.exception("run %s failed", self.run.run_id, exc_info=exc)
        self._record_error(message, {"kind": "internal"})
        partial = "".join(self.partial)
        try:
            self._finish("error", None, partial, error=message)
        except Exception:
            # Often the crash was the storage itself (a dropped database connection): reset it and
            # try once more. If that fails too, the stale-run sweep ends the run later.
            reset = getattr(self.db, "connection_reset", None)
            if reset is not None:
                reset()
            try:
                self._finish("error", None, partial, error=message)
            except Exception:
                logger.exception("could not record the failure of run %s", self.run.run_id)
        if self.output is None:
            self.output = self._output("error", None, partial, error=message)
        return RunError(self.run.run_id, message, self.output)

    # --- after the reply -------------------------------------------------------------
    def memory_manager_inputs(self) -> tuple[tuple[Message, ...], list[Tool]]:
        memories = self.db.user_memories(user_id=self.run.user_id, limit=self.agent.memory_context_limit)
        user_messages = self.db.run_user_messages(run=self.run)
        messages = build_memory_manager_context(memories=memories, user_messages=user_messages)
        return messages, self._memory_tools(actor="memory_manager")

    def handle_memory_manager(self, event: loop.LoopEvent) -> list[RunEvent]:
        if isinstance(event, loop.ModelRequestFinished | loop.ModelRequestFailed):
            self._record_model_request(event, name="memory_manager")
        elif isinstance(event, loop.ToolCallStarted):
            self.flush()
        elif isinstance(event, loop.ToolCallFinished):
            self._record_tool_call(event)
            changes, self.memory_changes = self.memory_changes, []
            return list(changes)
        elif isinstance(event, loop.LoopFailed):
            self.memory_error = event.error
            self._record_error(
                f"Automatic memory update failed: {event.error.message}", {"kind": event.error.kind}
            )
        if isinstance(event, loop.LoopFinished | loop.LoopFailed):
            self.flush()
        return []
