"""What a run tells operators: OpenTelemetry spans (through the API only, a no-op until the process
sets up the SDK) and the events its observers count (the metrics, set up by the Django side).

One trace per run: the run's span, with the context assembly (memory retrieval inside it), each
model request (the GenAI semantic conventions' `gen_ai.*` attributes), each tool call and each
memory write as children. Spans are made from the times the loop already measures, with explicit
parents, never by changing the current context: the run's events are produced by generators whose
consumers run in between, where an attached context would leak.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from agentapp.llm.types import Message, Model, ModelError, ModelResponse, Usage

from . import loop
from .records import RunHandle

TRACER_NAME = "agentapp.agent"
# The GenAI conventions' switch: prompts and replies go into spans only when the operator says so.
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
PROVIDERS = {"openai-responses": "openai", "openai-chat": "openai", "demo": "demo"}


class RunObserver(Protocol):
    """Told about each run's outcome and each failed model request (the metrics implement it)."""

    def run_finished(
        self,
        *,
        status: str,
        model: str,
        duration_s: float,
        ttft_s: float | None,
        input_tokens: int,
        output_tokens: int,
    ) -> None: ...

    def model_failed(self, *, model: str, kind: str) -> None: ...


_observers: list[RunObserver] = []
_provider: trace.TracerProvider | None = None  # None: the process's global one


def use_tracer_provider(provider: trace.TracerProvider | None) -> None:
    """Spans go to `provider` rather than the global one (None: back to the global one); for tests,
    which cannot undo the process-wide provider."""
    global _provider
    _provider = provider


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME, tracer_provider=_provider)


def add_observer(observer: RunObserver) -> None:
    """Register a process-wide observer (once; registering it again changes nothing)."""
    if observer not in _observers:
        _observers.append(observer)


def remove_observer(observer: RunObserver) -> None:
    if observer in _observers:
        _observers.remove(observer)


# What structured logs add to every line logged while a run goes: its ids and its trace id.
_log_fields: ContextVar[Mapping[str, str] | None] = ContextVar("agentapp_run_log_fields", default=None)


def log_fields() -> Mapping[str, str]:
    return _log_fields.get() or {}


def set_log_fields(fields: Mapping[str, str] | None) -> None:
    _log_fields.set(fields)


def capture_content() -> bool:
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


def _messages_json(messages: Sequence[Message]) -> str:
    return json.dumps([message.said_dict() for message in messages], ensure_ascii=False)


class StepSpans:
    """Spans of the steps under one parent: a run's span, or the span current when a follow-up is
    done (a worker's task). Records nothing when the parent does not (tracing off)."""

    def __init__(self, *, model: Model, parent: Context, recording: bool) -> None:
        self.model = model
        self.provider = PROVIDERS.get(model.provider, model.provider)
        self.parent = parent
        self.recording = recording
        self._memory_writes: list[tuple[str, str, float]] = []

    @classmethod
    def under_current_span(cls, model: Model) -> StepSpans:
        """For follow-up work: its steps under the span current now (a worker's task span)."""
        current = trace.get_current_span()
        return cls(model=model, parent=trace.set_span_in_context(current), recording=current.is_recording())

    def _child(
        self,
        name: str,
        *,
        start: float,
        end: float,
        attributes: Mapping[str, AttributeValue],
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Context | None = None,
        error: str | None = None,
    ) -> Span:
        span = tracer().start_span(
            name, context=parent or self.parent, kind=kind, start_time=_ns(start), attributes=attributes
        )
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
            span.set_attribute("error.type", error)
        span.end(end_time=_ns(end))
        return span

    def model_request(
        self, event: loop.ModelRequestFinished | loop.ModelRequestFailed, *, model_id: str
    ) -> None:
        if isinstance(event, loop.ModelRequestFinished):
            response = event.response
            self.model_call(
                event.messages,
                model_id=model_id,
                response=response,
                started=response.started_at,
                ended=response.ended_at,
                extra={"agentapp.round": event.round},
            )
        else:
            self.model_call(
                event.messages,
                model_id=model_id,
                error=event.error.kind,
                started=event.started_at,
                ended=event.ended_at,
                extra={"agentapp.round": event.round},
            )

    def model_call(
        self,
        messages: Sequence[Message],
        *,
        model_id: str,
        started: float,
        ended: float,
        response: ModelResponse | None = None,
        error: str | None = None,
        extra: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        """One model request, answered (`response`) or failed (`error`: its kind)."""
        if error is not None:
            for observer in _observers:
                observer.model_failed(model=model_id, kind=error)
        if not self.recording:
            return
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": self.provider,
            "gen_ai.provider.name": self.provider,
            "gen_ai.request.model": model_id,
            **(extra or {}),
        }
        if capture_content():
            attributes["gen_ai.input.messages"] = _messages_json(messages)
        if response is not None:
            attributes.update(
                {
                    "gen_ai.response.model": response.model_id or model_id,
                    "gen_ai.usage.input_tokens": response.usage.input_tokens,
                    "gen_ai.usage.output_tokens": response.usage.output_tokens,
                    "gen_ai.response.finish_reasons": ["tool_calls" if response.tool_calls else "stop"],
                }
            )
            if capture_content():
                attributes["gen_ai.output.messages"] = _messages_json([response.as_message()])
        self._child(
            f"chat {model_id}",
            kind=SpanKind.CLIENT,
            start=started,
            end=ended,
            attributes=attributes,
            error=error,
        )

    def request(self, messages: Sequence[Message]) -> ModelResponse:
        """One request to the model (a summary fold, a title), with its span; its ModelError is raised."""
        started = time.time()
        try:
            response = self.model.request(messages)
        except ModelError as error:
            self.model_call(
                messages, model_id=self.model.id, started=started, ended=time.time(), error=error.kind
            )
            raise
        self.model_call(
            messages,
            model_id=self.model.id,
            started=response.started_at,
            ended=response.ended_at,
            response=response,
        )
        return response

    def memory_written(self, *, action: str, memory_id: str) -> None:
        if self.recording:
            self._memory_writes.append((action, memory_id, time.time()))

    def tool_call(self, event: loop.ToolExecutionFinished) -> None:
        if not self.recording:
            return
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": event.call.name,
            "gen_ai.tool.call.id": event.call.id,
        }
        if capture_content():
            attributes["gen_ai.tool.call.arguments"] = event.call.arguments
            attributes["gen_ai.tool.call.result"] = event.result
        span = self._child(
            f"execute_tool {event.call.name}",
            start=event.started_at,
            end=event.ended_at,
            attributes=attributes,
            error="tool_error" if event.is_error else None,
        )
        writes, self._memory_writes = self._memory_writes, []
        for action, memory_id, at in writes:
            self._child(
                f"memory {action}",
                start=event.started_at,
                end=at,
                parent=trace.set_span_in_context(span),
                attributes={"agentapp.memory.action": action, "agentapp.memory.id": memory_id},
            )


class RunTelemetry(StepSpans):
    """The spans and observer calls of one run."""

    def __init__(self, *, run: RunHandle, model: Model, agent_name: str, started_at: float) -> None:
        self.run = run
        self.started_at = started_at
        self.span: Span = tracer().start_span(
            f"invoke_agent {agent_name}",
            kind=SpanKind.INTERNAL,
            start_time=_ns(started_at),
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": agent_name,
                "gen_ai.conversation.id": run.session_id,
                "gen_ai.request.model": model.id,
                "agentapp.run_id": run.run_id,
                "agentapp.session_id": run.session_id,
                "agentapp.user_id": run.user_id,
            },
        )
        super().__init__(
            model=model, parent=trace.set_span_in_context(self.span), recording=self.span.is_recording()
        )
        self._ended = False
        fields = {"run_id": run.run_id, "session_id": run.session_id, "user_id": run.user_id}
        if self.trace_id:
            fields["trace_id"] = self.trace_id
        set_log_fields(fields)

    @property
    def trace_id(self) -> str:
        """The run's trace id (32 hex digits), or "" when tracing is off."""
        context = self.span.get_span_context()
        return trace.format_trace_id(context.trace_id) if context.is_valid else ""

    @contextmanager
    def current(self) -> Iterator[None]:
        """The run's span as the current one, for a short stretch that yields nothing (sending the
        follow-ups: what they send carries the run's trace context)."""
        with trace.use_span(self.span, end_on_exit=False):
            yield

    def context_assembled(
        self, *, started: float, loaded: float, memory_ids: Sequence[str], memories_total: int, tokens: int
    ) -> None:
        if not self.recording:
            return
        span = tracer().start_span(
            "assemble_context",
            context=self.parent,
            start_time=_ns(started),
            attributes={"agentapp.context.tokens": tokens},
        )
        self._child(
            "retrieve_memories",
            start=started,
            end=loaded,
            parent=trace.set_span_in_context(span),
            attributes={
                "agentapp.memory.count": len(memory_ids),
                "agentapp.memory.ids": list(memory_ids),
                "agentapp.memory.total": memories_total,
            },
        )
        span.end(end_time=_ns(time.time()))

    def finished(self, *, status: str, usage: Usage, first_token_at: float | None, error: str = "") -> None:
        """The run's end: its span ends, the observers count it. Once, however it ended."""
        if self._ended:
            return
        self._ended = True
        now = time.time()
        started = self.started_at
        for observer in _observers:
            observer.run_finished(
                status=status,
                model=self.model.id,
                duration_s=max(0.0, now - started),
                ttft_s=max(0.0, first_token_at - started) if first_token_at else None,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
            )
        set_log_fields(None)
        if not self.recording:
            return
        self.span.set_attributes(
            {
                "agentapp.run.status": status,
                "gen_ai.usage.input_tokens": usage.input_tokens,
                "gen_ai.usage.output_tokens": usage.output_tokens,
            }
        )
        if status == "error":
            self.span.set_status(Status(StatusCode.ERROR, error))
        self.span.end(end_time=_ns(now))
