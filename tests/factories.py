"""Rows the tests build, in one place: sessions, and runs in each state, through the services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from sessions_app import services
from sessions_app.models import AgentSession, Run


def session(user: User, session_id: str | None = None, **fields: Any) -> AgentSession:
    """The user's session `session_id` (made when new), with `fields` (title=...) set."""
    found = AgentSession.objects.filter(session_id=session_id).first() if session_id else None
    if found is None:
        found = AgentSession.objects.create(user=user, **({"session_id": session_id} if session_id else {}))
    if fields:
        AgentSession.objects.filter(pk=found.pk).update(**fields)
        found.refresh_from_db()
    return found


def run(thread: AgentSession, text: str, *, status: str = Run.Status.COMPLETED, **fields: Any) -> Run:
    """A run of `thread` in `status`, with `fields` (content=..., created_at=...) written as they are.

    Only the user's message is stored with it, as a run the chat created and never drove.
    """
    made = services.run_create(session=thread, input=text, status=Run.Status.PENDING)
    Run.objects.filter(pk=made.pk).update(status=status, **fields)
    made.refresh_from_db()
    return made


def finished_run(thread: AgentSession, text: str, reply: str, *, status: str = Run.Status.COMPLETED) -> Run:
    """A run that went the whole way: the user's message, the reply stored as a message, the outcome."""
    made = services.run_create(session=thread, input=text)
    services.run_finish(
        run_pk=made.pk,
        session_pk=thread.pk,
        status=status,
        content=reply,
        messages=[{"role": "assistant", "content": reply}],
        input_tokens=1,
        output_tokens=1,
        total_tokens=2,
        started_at=timezone.now(),
        first_token_at=None,
    )
    made.refresh_from_db()
    return made
