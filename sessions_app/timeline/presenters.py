"""Reads behind the run pages: the runs list, one run's timeline and contexts, a session's runs.

Each function does a fixed number of bounded queries and returns plain view data
whose text is already redacted, so templates only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from memory_app.models import Memory, MemoryChange

from ..models import AgentSession, Run, RunEvent
from ..versions import Place, places
from . import layout

KNOWN_KINDS = {kind.value for kind in RunEvent.Kind}
BACKGROUND_NAMES = {"memory_manager"}
SESSION_RUN_LIMIT = 200


def memory_history_url(memory_id: str) -> str:
    """The memory's history in the editor; the editor's list filtered to it if that URL is missing."""
    try:
        return reverse("memory:history", args=[memory_id])
    except NoReverseMatch:
        return "/memories/?" + urlencode({"memory": memory_id})


# --- one run's timeline ----------------------------------------------------------------------


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


def _messages(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    rows = []
    for message in raw:
        if not isinstance(message, dict):
            continue
        calls = message.get("tool_calls") or []
        rows.append(
            {
                "role": str(message.get("role") or ""),
                "content": layout.redact(str(message.get("content") or "")),
                "tool_call_id": str(message.get("tool_call_id") or ""),
                "tool_calls": [_call(c) for c in calls if isinstance(c, dict)],
            }
        )
    return rows


def _call(call: dict[str, Any]) -> dict[str, str]:
    return {
        "id": str(call.get("id") or ""),
        "name": str(call.get("name") or ""),
        "arguments": layout.pretty(call.get("arguments") or "{}"),
    }


def _label(event: RunEvent) -> str:
    payload = event.payload or {}
    if event.kind == RunEvent.Kind.CONTEXT:
        return "context assembly"
    if event.kind == RunEvent.Kind.MODEL_REQUEST:
        if event.name == "memory_manager":
            return f"automatic memory update · request {payload.get('round', '')}".strip()
        return f"model request {payload.get('round', '')} · {event.name}".strip()
    if event.kind == RunEvent.Kind.TOOL_CALL:
        return f"tool · {event.name}"
    if event.kind == RunEvent.Kind.MEMORY_UPDATE:
        return f"memory {event.name}"
    if event.kind == RunEvent.Kind.SUMMARY:
        return "session summary update"
    return f"{event.kind} {event.name}".strip()


def _detail(event: RunEvent, change: MemoryChange | None) -> dict[str, Any]:
    payload = event.payload if isinstance(event.payload, dict) else {}
    detail: dict[str, Any] = {"raw": layout.pretty(payload)}
    request = payload.get("request")
    if isinstance(request, dict):
        detail["messages"] = _messages(request.get("messages"))
    response = payload.get("response")
    if isinstance(response, dict):
        detail["response_text"] = layout.redact(str(response.get("text") or ""))
        detail["response_calls"] = [_call(c) for c in response.get("tool_calls") or [] if isinstance(c, dict)]
    error = payload.get("error")
    if isinstance(error, dict):
        detail["error"] = layout.redact(str(error.get("message") or ""))
        detail["error_kind"] = str(error.get("kind") or "")
        detail["partial_text"] = layout.redact(str(payload.get("partial_text") or ""))
    if event.kind == RunEvent.Kind.ERROR:
        detail["error"] = layout.redact(str(payload.get("message") or ""))
        detail["error_kind"] = str(payload.get("kind") or "")
    if event.kind == RunEvent.Kind.TOOL_CALL:
        detail["arguments"] = layout.pretty(payload.get("arguments") or "{}")
        detail["result"] = layout.redact(str(payload.get("result") or ""))
        detail["tool_call_id"] = str(payload.get("tool_call_id") or "")
    if event.kind == RunEvent.Kind.CONTEXT:
        sections = [s for s in payload.get("sections") or [] if isinstance(s, dict)]
        detail["sections"] = sections
        detail["segments"] = layout.stacked(
            [(str(s.get("name")), int(s.get("tokens") or 0)) for s in sections]
        )
        detail["recall"] = _recall(payload.get("recall"))
    if event.kind == RunEvent.Kind.MEMORY_UPDATE:
        memory_id = str(payload.get("memory_id") or "")
        detail["memory_id"] = memory_id
        detail["action"] = str(payload.get("action") or "")
        detail["actor"] = str(payload.get("actor") or "")
        detail["history_url"] = memory_history_url(memory_id)
        after = change.after if change else payload.get("after")
        detail["before"] = _snapshot(change.before if change else None)
        detail["after"] = _snapshot(after)
    return detail


STRATEGY_LABELS = {
    "all": "every memory fit the budget",
    "hybrid": "ranked by meaning, words and recency",
    "words+recency": "ranked by words and recency",
    "recency": "the most recent",
}


def _signals(scored: dict[str, Any]) -> str:
    """One memory's place by each signal, as the run page shows it: "meaning #1 (0.62) · words #3"."""
    parts = []
    if scored.get("meaning_rank") is not None:
        similarity = scored.get("similarity")
        shown = f" ({similarity:.2f})" if isinstance(similarity, int | float) else ""
        parts.append(f"meaning #{scored['meaning_rank']}{shown}")
    if scored.get("words_rank") is not None:
        parts.append(f"words #{scored['words_rank']}")
    if scored.get("recency_rank") is not None:
        parts.append(f"recency #{scored['recency_rank']}")
    return " · ".join(parts)


def _recall(value: Any) -> dict[str, Any] | None:
    """How a run's memories were chosen (the context step's `recall`), for the run page."""
    if not isinstance(value, dict):
        return None
    memories = [m for m in value.get("memories") or [] if isinstance(m, dict)]
    strategy = str(value.get("strategy") or "")
    return {
        "strategy": strategy,
        "label": STRATEGY_LABELS.get(strategy, strategy),
        "note": str(value.get("note") or ""),
        "total": value.get("total"),
        "embedding_ms": value.get("embedding_ms"),
        "scores": {
            str(m.get("memory_id")): {
                "score": m.get("score"),
                "signals": _signals(m),
            }
            for m in memories
        },
    }


def _snapshot(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {"text": layout.redact(str(value.get("text") or "")), "topics": list(value.get("topics") or [])}


def _changes_by_event(run: Run, events: list[RunEvent]) -> dict[int, MemoryChange]:
    """Pairs each memory_update event with the MemoryChange the same write left (for its `before`)."""
    if not any(e.kind == RunEvent.Kind.MEMORY_UPDATE for e in events):
        return {}
    pending = list(
        MemoryChange.objects.filter(run_id=run.pk).select_related("memory").order_by("created_at", "id")
    )
    paired: dict[int, MemoryChange] = {}
    for event in events:
        if event.kind != RunEvent.Kind.MEMORY_UPDATE:
            continue
        payload = event.payload or {}
        for change in pending:
            if change.memory.memory_id == payload.get("memory_id") and change.action == payload.get("action"):
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
        detail = _detail(event, changes.get(event.pk))
        detail["ttft"] = layout.format_ms(ttft) if isinstance(ttft, int | float) else ""
        rows.append(
            Row(
                event=event,
                kind=event.kind if event.kind in KNOWN_KINDS else "other",
                label=_label(event),
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
    )


def _trace_id(events: list[RunEvent]) -> str:
    context = next((e for e in events if e.kind == RunEvent.Kind.CONTEXT), None)
    value = (context.payload or {}).get("trace_id") if context is not None else None
    return value if isinstance(value, str) else ""


def _context_recall(events: list[RunEvent]) -> dict[str, Any] | None:
    context = next((e for e in events if e.kind == RunEvent.Kind.CONTEXT), None)
    return _recall((context.payload or {}).get("recall")) if context is not None else None


def _memories_used(run: Run, recall: dict[str, Any] | None) -> list[dict[str, Any]]:
    ids = [str(i) for i in run.memories_used or []]
    scores = recall["scores"] if recall else {}
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


# --- the context of each model request -----------------------------------------------------


@dataclass
class RequestContext:
    event: RunEvent
    label: str
    sections: list[layout.Section]
    segments: list[layout.Segment]
    total_tokens: int
    reported_input_tokens: int
    messages: list[dict[str, str]] = field(default_factory=list)


def run_contexts(*, run: Run) -> list[RequestContext]:
    contexts = []
    requests = RunEvent.objects.filter(
        run_id=run.pk, kind__in=(RunEvent.Kind.MODEL_REQUEST, RunEvent.Kind.SUMMARY)
    ).order_by("started_at", "id")
    for event in requests:
        request = (event.payload or {}).get("request")
        raw = request.get("messages") if isinstance(request, dict) else None
        if not isinstance(raw, list):
            continue
        messages = [m for m in raw if isinstance(m, dict)]
        recorded = (event.payload or {}).get("layout")
        sections = layout.context_sections(messages, recorded if isinstance(recorded, list) else ())
        for section in sections:
            section.texts = [(role, layout.redact(text)) for role, text in section.texts]
        contexts.append(
            RequestContext(
                event=event,
                label=_label(event),
                sections=sections,
                segments=layout.stacked([(s.name, s.tokens) for s in sections]),
                total_tokens=sum(s.tokens for s in sections),
                reported_input_tokens=event.input_tokens,
            )
        )
    return contexts


# --- a session's runs ----------------------------------------------------------------------------


@dataclass
class SessionRun:
    run: Run
    bar: layout.Bar
    summary_updates: int
    duration: str
    start: str
    input: str
    place: Place


@dataclass
class SessionTimeline:
    session: AgentSession
    runs: list[SessionRun]
    ticks: list[layout.Tick]
    chart: layout.Chart
    truncated: bool
    input_tokens: int
    output_tokens: int
    label: str = ""
    first_number: int = 1  # the turn number of the first run shown (later than 1 when truncated)


def session_timeline(*, session: AgentSession) -> SessionTimeline:
    """The session's last SESSION_RUN_LIMIT runs, oldest first, on one axis."""
    newest = list(Run.objects.filter(session_id=session.pk).order_by("-id")[: SESSION_RUN_LIMIT + 1])
    truncated = len(newest) > SESSION_RUN_LIMIT
    runs = list(reversed(newest[:SESSION_RUN_LIMIT]))
    # Numbered as turns of the whole session, so the first run shown is not called "1."
    first_number = (
        Run.objects.filter(session_id=session.pk, id__lt=runs[0].pk).count() + 1 if truncated else 1
    )
    summaries: dict[int, int] = {}
    for run_pk in RunEvent.objects.filter(
        run_id__in=[r.pk for r in runs], kind=RunEvent.Kind.SUMMARY
    ).values_list("run_id", flat=True):
        summaries[run_pk] = summaries.get(run_pk, 0) + 1
    starts = [r.started_at or r.created_at for r in runs]
    ends = [r.ended_at or r.started_at or r.created_at for r in runs]
    if any(not r.is_finished for r in runs):
        ends.append(timezone.now())
    start = min(starts, default=session.created_at)
    total_ms = max(layout.ms_between(start, max(ends, default=start)), 1.0)
    shape = places(runs)
    rows = []
    for run, run_start in zip(runs, starts, strict=True):
        offset = layout.ms_between(start, run_start)
        end = layout.ms_between(start, run.ended_at) if run.ended_at else None
        rows.append(
            SessionRun(
                run=run,
                bar=layout.bar(start_ms=offset, end_ms=end, total_ms=total_ms),
                summary_updates=summaries.get(run.pk, 0),
                duration=layout.format_ms(run.duration_ms),
                start=f"+{layout.format_ms(offset)}",
                input=layout.redact(run.input),
                place=shape[run.pk],
            )
        )
    chart = layout.token_chart(
        [(r.input_tokens, r.output_tokens) for r in runs],
        marked=[i for i, r in enumerate(rows) if r.summary_updates],
    )
    return SessionTimeline(
        session=session,
        runs=rows,
        ticks=layout.axis_ticks(total_ms),
        chart=chart,
        truncated=truncated,
        input_tokens=sum(r.input_tokens for r in runs),
        output_tokens=sum(r.output_tokens for r in runs),
        label=layout.redact(str(session)),
        first_number=first_number,
    )
