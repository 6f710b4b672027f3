"""The run page: one run's events on a time axis, with what each did, the memories it used and
wrote; and one event alone (the event page), laid out like its row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from memory_app.models import Memory, MemoryChange

from ...models import Run, RunEvent, RunFeedback
from ...selectors import run_feedback_get
from .. import layout
from .details import event_detail, event_label, memory_history_url, recall_shown

KNOWN_KINDS = {kind.value for kind in RunEvent.Kind}
BACKGROUND_NAMES = {"memory_manager"}


@dataclass
class Row:
    event: RunEvent
    kind: str  # a css class: the event kind, or "other" for kinds this page does not know
    label: str
    bar: layout.Bar
    ttft_bar: layout.Bar | None
    background: bool
    is_error: bool
    duration: str
    start: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Feedback:
    """The person's thumbs on the reply, with their comment (redacted like every text here)."""

    rating: str
    comment: str
    by: str
    given_at: datetime
    changed_at: datetime | None  # when given again since, replacing it

    @classmethod
    def of(cls, feedback: RunFeedback | None) -> Feedback | None:
        if feedback is None:
            return None
        changed = feedback.updated_at - feedback.created_at > timedelta(seconds=1)
        return cls(
            rating=feedback.rating,
            comment=layout.redact(feedback.comment),
            by=feedback.user.get_username(),
            given_at=feedback.created_at,
            changed_at=feedback.updated_at if changed else None,
        )


@dataclass
class RunTimeline:
    run: Run
    rows: list[Row]
    ticks: list[layout.Tick]
    total_ms: float
    reply_marker: str | None  # left % of the moment the reply finished
    model_requests: int
    tool_calls: int
    background_events: int
    memories_used: list[dict[str, Any]]
    recall: dict[str, Any] | None
    memories_written: list[dict[str, Any]]
    error: str = ""
    duration: str = ""
    ttft: str = ""
    input: str = ""
    content: str = ""
    session_label: str = ""
    trace_id: str = ""  # the run's OpenTelemetry trace, when tracing was on
    feedback: Feedback | None = None  # what the run's person thought of the reply

    @property
    def trace_url(self) -> str:
        """The trace in the operators' tracing backend (AGENT_TRACE_URL with {trace_id}), or ""."""
        template = settings.AGENT_TRACE_URL
        return template.replace("{trace_id}", self.trace_id) if template and self.trace_id else ""


def _axis(run: Run, events: list[RunEvent]) -> tuple[datetime, float]:
    start = run.started_at or run.created_at
    moments = [start, run.ended_at or start]
    for event in events:
        moments.extend(m for m in (event.started_at, event.ended_at) if m is not None)
    if not run.is_finished:
        moments.append(timezone.now())
    start = min(moments)
    return start, max(layout.ms_between(start, max(moments)), 1.0)


def _is_background(run: Run, event: RunEvent) -> bool:
    if event.kind == RunEvent.Kind.SUMMARY or event.name in BACKGROUND_NAMES:
        return True
    return bool(run.ended_at and run.status == Run.Status.COMPLETED and event.started_at >= run.ended_at)


def _changes_by_event(run: Run, events: list[RunEvent]) -> dict[int, MemoryChange]:
    """Pairs each memory_update event with the MemoryChange the same write left (for its `before`)."""
    if not any(e.kind == RunEvent.Kind.MEMORY_UPDATE for e in events):
        return {}
    pending = list(
        MemoryChange.objects.filter(run_id=run.pk, memory__isnull=False)
        .select_related("memory")
        .order_by("created_at", "id")
    )
    paired: dict[int, MemoryChange] = {}
    for event in events:
        if event.kind != RunEvent.Kind.MEMORY_UPDATE:
            continue
        payload = event.payload or {}
        for change in pending:
            if change.subject.memory_id == payload.get("memory_id") and change.action == payload.get(
                "action"
            ):
                paired[event.pk] = change
                pending.remove(change)
                break
    return paired


def run_events(*, run: Run) -> list[RunEvent]:
    events = list(RunEvent.objects.filter(run_id=run.pk).order_by("started_at", "id"))
    for event in events:
        event.run = run  # templates link through event.run: no query per row
    return events


def run_timeline(*, run: Run) -> RunTimeline:
    events = run_events(run=run)
    start, total_ms = _axis(run, events)
    changes = _changes_by_event(run, events)
    rows = []
    for event in events:
        offset = layout.ms_between(start, event.started_at)
        end = layout.ms_between(start, event.ended_at) if event.ended_at else None
        bar = layout.bar(start_ms=offset, end_ms=end, total_ms=total_ms)
        ttft = (event.payload or {}).get("ttft_ms") if event.kind == RunEvent.Kind.MODEL_REQUEST else None
        ttft_bar = (
            layout.bar(start_ms=offset, end_ms=offset + ttft, total_ms=total_ms)
            if isinstance(ttft, int | float)
            else None
        )
        detail = event_detail(event, changes.get(event.pk))
        detail["ttft"] = layout.format_ms(ttft) if isinstance(ttft, int | float) else ""
        rows.append(
            Row(
                event=event,
                kind=event.kind if event.kind in KNOWN_KINDS else "other",
                label=event_label(event),
                bar=bar,
                ttft_bar=ttft_bar,
                background=_is_background(run, event),
                is_error=event.kind == RunEvent.Kind.ERROR
                or "error" in detail
                or bool((event.payload or {}).get("is_error")),
                duration=layout.format_ms(event.duration_ms),
                start=f"+{layout.format_ms(offset)}",
                detail=detail,
            )
        )
    reply_marker = None
    if run.ended_at and any(r.background for r in rows):
        reply_marker = layout.bar(
            start_ms=layout.ms_between(start, run.ended_at), end_ms=None, total_ms=total_ms
        ).left
    written = [r.detail for r in rows if r.kind == RunEvent.Kind.MEMORY_UPDATE]
    return RunTimeline(
        run=run,
        rows=rows,
        ticks=layout.axis_ticks(total_ms),
        total_ms=total_ms,
        reply_marker=reply_marker,
        model_requests=sum(1 for e in events if e.kind == RunEvent.Kind.MODEL_REQUEST),
        tool_calls=sum(1 for e in events if e.kind == RunEvent.Kind.TOOL_CALL),
        background_events=sum(1 for r in rows if r.background),
        memories_used=_memories_used(run, _context_recall(events)),
        recall=_context_recall(events),
        memories_written=written,
        error=layout.redact(run.error),
        duration=layout.format_ms(run.duration_ms),
        ttft=layout.format_ms(run.ttft_ms),
        input=layout.redact(run.input),
        content=layout.redact(run.content),
        session_label=layout.redact(str(run.session)),  # a title is made of the first message's words
        trace_id=_trace_id(events),
        feedback=Feedback.of(run_feedback_get(run=run)),
    )


def _trace_id(events: list[RunEvent]) -> str:
    context = next((e for e in events if e.kind == RunEvent.Kind.CONTEXT), None)
    value = (context.payload or {}).get("trace_id") if context is not None else None
    return value if isinstance(value, str) else ""


def _context_recall(events: list[RunEvent]) -> dict[str, Any] | None:
    context = next((e for e in events if e.kind == RunEvent.Kind.CONTEXT), None)
    return recall_shown((context.payload or {}).get("recall")) if context is not None else None


def _memories_used(run: Run, recall: dict[str, Any] | None) -> list[dict[str, Any]]:
    ids = [str(i) for i in run.memories_used or []]
    # Scores only where memories were ranked: when all fitted, none was chosen over another.
    scores = recall["scores"] if recall and recall["strategy"] != "all" else {}
    found = {m.memory_id: m for m in Memory.objects.filter(user_id=run.user_id, memory_id__in=ids)}
    used = []
    for memory_id in ids:
        memory = found.get(memory_id)
        used.append(
            {
                "memory_id": memory_id,
                "text": layout.redact(memory.text) if memory else "",
                "deleted": bool(memory and memory.is_deleted),
                "missing": memory is None,
                "history_url": memory_history_url(memory_id),
                "score": (scores.get(memory_id) or {}).get("score"),
                "signals": (scores.get(memory_id) or {}).get("signals", ""),
            }
        )
    return used


def run_event_get(*, run: Run, event_pk: int) -> tuple[RunEvent, Row] | None:
    """One event of the run, laid out like its timeline row; None when it is not this run's."""
    for row in run_timeline(run=run).rows:
        if row.event.pk == event_pk:
            return row.event, row
    return None
