"""One pass of the memory manager, made ready (`MemoryManager.prepare`) and run (`finish`): apart, so
that its first request can be asked ahead, alongside a script's reply (see run.alongside)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentapp.llm.types import Message, Model, ModelError, ToolSpec

from .. import loop
from ..events import MemoryUpdated
from ..prompt import Span
from ..telemetry import StepSpans
from ..timeline import Timeline
from ..tools import Tool

ACTOR = "memory_manager"


@dataclass
class MemoryUpdate:
    """What one automatic update did: the memory writes, and the model's error if a request failed."""

    changes: list[MemoryUpdated] = field(default_factory=list)
    error: ModelError | None = None
    reply: str = ""


@dataclass
class MemoryPass:
    """One manager pass, made ready: its request's messages (and where each part sits), its tools,
    and the timeline its requests and writes go on. `finish` asks `model` and makes the writes."""

    model: Model
    messages: tuple[Message, ...]
    layout: tuple[Span, ...]
    tools: list[Tool]
    max_tool_rounds: int
    timeline: Timeline
    spans: StepSpans
    outcome: MemoryUpdate

    def first_request(self) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]:
        """What the pass asks first (as the loop makes its first request): to ask it ahead of time."""
        offered = {tool.name: tool for tool in self.tools}.values()
        return self.messages, tuple(tool.spec for tool in offered) if self.max_tool_rounds > 1 else ()

    def finish(self, model: Model | None = None) -> MemoryUpdate:
        """Run the pass, through `model` (one that has its first answer already, say) or its own."""
        model = model if model is not None else self.model
        outcome, timeline, spans, layout = self.outcome, self.timeline, self.spans, self.layout
        for event in loop.run_loop(model, self.messages, self.tools, max_tool_rounds=self.max_tool_rounds):
            if isinstance(event, loop.ModelRequestFinished | loop.ModelRequestFailed):
                timeline.model_request(event, name=ACTOR, layout=layout)
                spans.model_request(event, model_id=self.model.id)
            elif isinstance(event, loop.ToolExecutionStarted):
                timeline.flush()
            elif isinstance(event, loop.ToolExecutionFinished):
                timeline.tool_execution(event)
                spans.tool_call(event)
            elif isinstance(event, loop.LoopFinished):
                outcome.reply = event.content
            elif isinstance(event, loop.LoopFailed):
                outcome.error = event.error
                timeline.error(
                    f"Automatic memory update failed: {event.error.message}", {"kind": event.error.kind}
                )
        timeline.flush()
        return outcome
