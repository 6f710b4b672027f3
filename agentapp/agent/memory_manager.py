"""The automatic memory update after a run (`update_memory_on_run`): a separate request asks the model
to maintain the user's memories with the same tools the agent has, given what the user said."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentapp.llm.types import Model, ModelError

from . import loop
from .context import build_memory_manager_context
from .events import MemoryUpdated
from .memory_tools import memory_tools
from .recall import QueryEmbedding, RecallQuery
from .recorder import RunRecorder
from .records import RunHandle, UserMemory
from .storage import AgentDb
from .telemetry import StepSpans

ACTOR = "memory_manager"


@dataclass
class MemoryUpdate:
    """What one automatic update did: the memory writes, and the model's error if a request failed."""

    changes: list[MemoryUpdated] = field(default_factory=list)
    error: ModelError | None = None


def update_memories(
    *,
    model: Model,
    db: AgentDb,
    run: RunHandle,
    memory_limit: int,
    max_rounds: int,
    embed: QueryEmbedding | None = None,
) -> MemoryUpdate:
    """Ask the model to add, update or delete the run's user's memories; each request and tool call
    goes on the run's timeline."""
    outcome = MemoryUpdate()
    recorder = RunRecorder(db, run)
    spans = StepSpans.under_current_span(model)  # a worker's task span, when tracing is on

    def changed(action: str, memory: UserMemory) -> None:
        outcome.changes.append(MemoryUpdated(run.run_id, action, memory.memory_id, memory.memory))
        spans.memory_written(action=action, memory_id=memory.memory_id)

    user_messages = db.run_user_messages(run=run)
    # The stored memories most like what the user said (not the most recent), so that an older fact
    # is updated rather than added again.
    query = RecallQuery(text="\n".join(user_messages), limit=memory_limit, embed=embed)
    memories = db.memories_recall(run=run, query=query).memories
    messages, layout = build_memory_manager_context(memories=memories, user_messages=user_messages)
    tools = memory_tools(db=db, run=run, actor=ACTOR, on_change=changed, embed=embed)
    for event in loop.run_loop(model, messages, tools, max_rounds=max_rounds):
        if isinstance(event, loop.ModelRequestFinished | loop.ModelRequestFailed):
            recorder.model_request(event, name=ACTOR, layout=layout)
            spans.model_request(event, model_id=model.id)
        elif isinstance(event, loop.ToolExecutionStarted):
            recorder.flush()
        elif isinstance(event, loop.ToolExecutionFinished):
            recorder.tool_execution(event)
            spans.tool_call(event)
        elif isinstance(event, loop.LoopFailed):
            outcome.error = event.error
            recorder.error(
                f"Automatic memory update failed: {event.error.message}", {"kind": event.error.kind}
            )
    recorder.flush()
    return outcome
