"""One chat as a document: the shape the person's full export gives each of their sessions (JSON),
and the thread the chat shows as Markdown. Reads only; a fixed number of queries whatever the length."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.text import slugify

from .models import AgentSession, Message, Run, RunEvent
from .versions import Place, places


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def sessions_for_export(sessions: QuerySet[AgentSession]) -> QuerySet[AgentSession]:
    """The sessions with everything `session_export` reads, prefetched: one query per relation."""
    runs = Run.objects.order_by("id").prefetch_related(
        "feedback",
        Prefetch("messages", queryset=Message.objects.order_by("position")),
        Prefetch("events", queryset=RunEvent.objects.order_by("started_at", "id")),
    )
    return sessions.select_related("summary").prefetch_related(Prefetch("runs", queryset=runs))


def _run(run: Run, place: Place) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        # Every version of every turn: `parent_run_id` is the run it follows, `version` its number
        # among the versions of its turn, `shown` whether it is on the thread the chat shows.
        "parent_run_id": place.parent_run_id,
        "version": place.version,
        "versions": place.versions,
        "shown": place.shown,
        "status": run.status,
        "input": run.input,
        "content": run.content,
        "error": run.error,
        "model_id": run.model_id,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "total_tokens": run.total_tokens,
        "created_at": _when(run.created_at),
        "ended_at": _when(run.ended_at),
        # False: the person asked that nothing be learned from this run (or forgot what it taught).
        "remember": run.remember,
        "feedback": [
            {
                "rating": f.rating,
                "comment": f.comment,
                "created_at": _when(f.created_at),
                "updated_at": _when(f.updated_at),
            }
            for f in run.feedback.all()
        ],
        "messages": [
            {
                "role": m.role,
                "content": m.content,
                "tool_calls": m.tool_calls,
                "tool_call_id": m.tool_call_id,
                "from_history": m.from_history,
            }
            for m in run.messages.all()
        ],
        "events": [
            {"kind": e.kind, "name": e.name, "started_at": _when(e.started_at), "payload": e.payload}
            for e in run.events.all()
        ],
    }


def session_export(session: AgentSession) -> dict[str, Any]:
    """One session as the person's export gives it: its summary, and every version of every turn
    with its messages, events and feedback (from `sessions_for_export`, without further queries)."""
    summary = getattr(session, "summary", None)
    runs = list(session.runs.all())
    shape = places(runs)
    return {
        "session_id": session.session_id,
        "title": session.title,
        "agent_name": session.agent_name,
        "session_state": session.session_state,
        # A temporary chat not deleted yet, and when the sweep deletes it.
        "temporary": session.temporary,
        "deleted_after": (
            _when(session.created_at + timedelta(days=settings.AGENT_TEMPORARY_CHAT_DAYS))
            if session.temporary
            else None
        ),
        "created_at": _when(session.created_at),
        "updated_at": _when(session.updated_at),
        "summary": (
            {"text": summary.text, "topics": summary.topics, "updated_at": _when(summary.updated_at)}
            if summary
            else None
        ),
        "runs": [_run(run, shape[run.pk]) for run in runs],
    }


def session_export_get(*, session: AgentSession) -> dict[str, Any]:
    """`session_export` of one session (already checked as the caller's), loaded afresh with its runs."""
    return session_export(sessions_for_export(AgentSession.objects.filter(pk=session.pk)).get())


def _stamp(when: datetime | None) -> str:
    return f" _({when:%Y-%m-%d %H:%M} UTC)_" if when else ""


def session_markdown(*, session: AgentSession) -> str:
    """The thread the chat shows (the version shown of each turn), oldest first, as Markdown: the
    title, then each turn's "**You:**" and "**Agent:**" with their times (UTC)."""
    runs = list(Run.objects.filter(session_id=session.pk).order_by("id"))
    shape = places(runs)
    lines = [f"# {session.title or 'Chat'}", ""]
    for run in runs:
        if not shape[run.pk].shown:
            continue
        lines += [f"**You:**{_stamp(run.created_at)}", "", run.input.strip(), ""]
        reply = run.content.strip()
        if not reply and run.status == Run.Status.ERROR:
            reply = f"_(no reply: {run.error or 'the run failed'})_"
        elif not reply and run.status == Run.Status.CANCELLED:
            reply = "_(stopped before replying)_"
        elif not reply:
            reply = "_(no reply yet)_"
        lines += [f"**Agent:**{_stamp(run.ended_at)}", "", reply, ""]
    return "\n".join(lines).rstrip() + "\n"


def session_export_filename(*, session: AgentSession, extension: str) -> str:
    """A file name from the title ("chat-<id>" untitled): ASCII letters, digits and dashes only."""
    stem = slugify(session.title)[:80].strip("-") or f"chat-{slugify(session.session_id)[:40]}".rstrip("-")
    return f"{stem}.{extension}"
