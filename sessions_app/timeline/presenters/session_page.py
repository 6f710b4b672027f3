"""The session timeline page: a session's runs on one axis, with their tokens and summary updates."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from ...models import AgentSession, Run, RunEvent
from ...versions import Place, places
from .. import layout

SESSION_RUN_LIMIT = 200


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
