"""The timeline of one run: what the Agent records of each step, buffered and stored through `db`.

Entries are buffered and stored with the run's outcome, in the one write that ends it, or just
before a tool runs, so that a slow tool's run shows its progress: a plain turn costs no writes
between its start and its end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from agentapp.llm.types import Message, ModelRetrying

from . import loop
from .errors import StorageUnavailable
from .prompt import Span
from .records import EventRecord, RunHandle


def to_datetime(seconds: float) -> datetime:
    """A time from `time.time()` as the timeline stores it."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def ms_between(start: float | None, end: float | None) -> int | None:
    if start is None or end is None:
        return None
    return round((end - start) * 1000)


class TimelineStorage(Protocol):
    """What a timeline needs of a storage (every storage has it: see agent.storage)."""

    def run_events_record(self, *, run: RunHandle, events: Sequence[EventRecord]) -> None: ...


class Timeline:
    """One run's timeline entries, as they are recorded (`record`, `model_request`, ...), until stored."""

    def __init__(self, db: TimelineStorage, run: RunHandle) -> None:
        self.db = db
        self.run = run
        self.pending: list[EventRecord] = []

    def record(self, **fields: Any) -> None:
        self.pending.append(EventRecord(**fields))

    def take(self) -> list[EventRecord]:
        """The entries not stored yet, for the write that ends the run."""
        taken, self.pending = self.pending, []
        return taken

    def flush(self) -> None:
        """Store the buffered entries now; while the storage is away they stay buffered for the
        write that ends the run (which waits for it), so a database restart loses none."""
        if not self.pending:
            return
        try:
            self.db.run_events_record(run=self.run, events=self.pending)
        except StorageUnavailable:
            return
        self.pending = []

    def model_request(
        self,
        event: loop.ModelRequestFinished | loop.ModelRequestFailed,
        *,
        name: str,
        layout: Sequence[Span] = (),
        retries: Sequence[ModelRetrying] = (),
    ) -> None:
        """`layout`: which part of the context each stretch of the request's messages holds; `retries`:
        the attempts made again after a failure, each with why."""
        payload: dict[str, Any] = {"round": event.round, "request": {"messages": _dicts(event.messages)}}
        if layout:
            payload["layout"] = [span.to_dict() for span in layout]
        if retries:
            payload["retries"] = [
                {
                    "attempt": r.attempt,
                    "attempts": r.attempts,
                    "delay_ms": round(r.delay * 1000),
                    "reason": r.reason,
                }
                for r in retries
            ]
        if isinstance(event, loop.ModelRequestFinished):
            response = event.response
            payload["response"] = {
                "text": response.text,
                "tool_calls": [call.to_dict() for call in response.tool_calls],
            }
            payload["ttft_ms"] = response.ttft_ms
            payload["model_id"] = response.model_id
            self.record(
                kind="model_request",
                name=name,
                started_at=to_datetime(response.started_at),
                ended_at=to_datetime(response.ended_at),
                input_tokens=response.usage.input_tokens,
                output_tokens=response.usage.output_tokens,
                payload=payload,
            )
            return
        payload["error"] = {"message": event.error.message, "kind": event.error.kind}
        payload["partial_text"] = event.partial_text
        self.record(
            kind="model_request",
            name=name,
            started_at=to_datetime(event.started_at),
            ended_at=to_datetime(event.ended_at),
            payload=payload,
        )

    def tool_execution(self, event: loop.ToolExecutionFinished) -> None:
        self.record(
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

    def error(self, message: str, payload: dict[str, Any]) -> None:
        now = to_datetime(time.time())
        self.record(
            kind="error", name="error", started_at=now, ended_at=now, payload={"message": message, **payload}
        )


def _dicts(messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [message.said_dict() for message in messages]
