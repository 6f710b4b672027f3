from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agentapp.agent.run.failures import person_error
from agentapp.agent.session.titles import title_from_text
from memory_app.models import MemoryChange, MemoryProposal
from sessions_app.chat.markdown import render_markdown
from sessions_app.chat.panel import chip
from sessions_app.chat.times import exact_time, group_by_day, relative_time
from sessions_app.models import AgentSession, Run

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    return render_markdown(text)


@register.filter
def run_error_for(run: Run, user: object) -> str:
    """A failed run's error as the chat shows it to `user`: in full to staff, in plain words to anyone
    else (no model server address or other internals: those are for the run page and the API)."""
    return run.error if getattr(user, "is_staff", False) else person_error(run.error)


@register.filter
def memory_chip(change: MemoryChange) -> SafeString:
    snapshot = change.before if change.after is None else change.after  # a deletion: what went
    return chip(change.action, str((snapshot or {}).get("text") or ""))


@register.filter
def proposal_chip(proposal: MemoryProposal) -> SafeString:
    """A memory the run proposed for the person's review: "proposed: ..." while it waits, "discarded:
    ..." once not kept; a kept one has its memory change's chip already."""
    if proposal.state == MemoryProposal.State.KEPT:
        return SafeString("")
    action = "discard" if proposal.state == MemoryProposal.State.DISCARDED else "propose"
    return chip(action, proposal.text)


@register.filter
def session_label(session: AgentSession) -> str:
    """The title; until there is one, the first words of the first message (`first_input`, when annotated)."""
    if session.title:
        return session.title
    first = getattr(session, "first_input", None)
    return title_from_text(first) if first else "New chat"


@register.filter
def session_title_draft(session: AgentSession) -> str:
    """What the rename field starts with: the title, else the first message in full (up to the
    field's 200 characters), never the shortened label with its "…"."""
    if session.title:
        return session.title
    first = getattr(session, "first_input", None) or ""
    return " ".join(first.split())[:200]


@register.simple_tag
def msg_time(when: datetime | None) -> SafeString:
    """`<time>` with the relative time, the exact local time on hover; nothing without a time."""
    if when is None:
        return SafeString("")
    tz = timezone.get_current_timezone()
    return format_html(
        '<time class="msg-time" datetime="{}" title="{}" data-tz="{}">{}</time>',
        when.isoformat(),
        exact_time(when, tz=tz),
        getattr(tz, "key", "UTC"),  # for static/js/times.js; a zoneinfo zone's name
        relative_time(when, now=timezone.now(), tz=tz),
    )


TITLE_PENDING_FOR = timedelta(minutes=2)  # a worker writes a title in seconds: longer, none is coming


@register.filter
def title_pending(session: AgentSession, user: object) -> bool:
    """Whether the sidebar says "title pending…": an untitled chat, for staff always (a sign that no
    worker writes titles), for anyone else only shortly after its last activity, never for good."""
    if session.title:
        return False
    if getattr(user, "is_staff", False):
        return True
    return session.updated_at >= timezone.now() - TITLE_PENDING_FOR


@register.filter
def ago(when: datetime | None) -> str:
    """The relative time as the chat says it ("just now", "5 min ago", "today 09:12"), for pages
    that would otherwise say "0 minutes ago" with Django's timesince."""
    if when is None:
        return ""
    return relative_time(when, now=timezone.now(), tz=timezone.get_current_timezone())


@register.filter
def by_day(sessions: Iterable[AgentSession]) -> list[tuple[str, list[AgentSession]]]:
    """The sidebar's groups (Today, Yesterday, Previous 7 days, Previous 30 days, then months)
    by when each session was last active, in the current time zone."""
    return group_by_day(
        sessions, when=lambda s: s.updated_at, now=timezone.now(), tz=timezone.get_current_timezone()
    )
