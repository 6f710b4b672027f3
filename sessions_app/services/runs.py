"""A run's writes: begun (with the person's message), claimed, its timeline, its end, a stop."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Max, QuerySet, Subquery, Value, When
from django.utils import timezone

from agentapp.agent.session.ids import taken_run_id
from agentapp.errors import InvalidInput, RunIdTaken, RunNotFound
from agentapp.platform import sql
from agentapp.platform.storable import storable, storable_json, unstorable

from ..models import AgentSession, Message, Run, RunEvent
from .live import runs_notify

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 32_000


def _check_message(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("message must not be empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"message is longer than {MAX_MESSAGE_CHARS} characters")
    if unstorable(text):
        raise InvalidInput("message must not contain NUL characters or lone surrogates")
    return text


SHOWN_END: Literal["shown end"] = "shown end"


def run_create(
    *,
    session: AgentSession,
    input: str,
    model_id: str = "",
    model_provider: str = "",
    status: str = Run.Status.RUNNING,
    acting_user: User | None = None,
    parent_pk: int | Literal["shown end"] | None = SHOWN_END,
    remember: bool = True,
    run_id: str | None = None,
) -> Run:
    """The Run and the user's message, in one transaction, so the message is never lost.

    `parent_pk`: the run it follows, of the same session; by default the end of the thread shown,
    read in the INSERT itself. Given (None: the thread's first turn), the new run is a version of
    that turn, beside the runs that already follow it. Either way the new run is now the end of
    the thread shown.

    `acting_user` is who sent it when that is not the session's owner (an operator, a service key):
    the run stays the owner's, and the run page says who really spoke.

    `remember` False: the person asked that nothing be learned from this message ("don't remember
    this"): no memory is written for the run.

    `run_id`: the caller's (Agno's `run(run_id=...)`); one a stored run has is refused (RunIdTaken).
    """
    _check_message(input)
    if run_id is not None and Run.objects.filter(run_id=run_id).exists():
        raise RunIdTaken(taken_run_id(run_id))
    now = timezone.now()
    # Inside a caller's transaction (a run begun with its session) no savepoint: a failure here
    # fails the whole.
    with transaction.atomic(savepoint=False):
        if parent_pk == SHOWN_END:
            # Runs begun at once in one thread follow one another, in the order they take this lock
            # (the INSERT below then sees the one before), rather than all follow the same run as
            # versions of one turn. NO KEY UPDATE: foreign-key checks of other writes do not wait.
            sql.fetch(
                f"SELECT 1 FROM {sql.table(AgentSession)} WHERE id = %s FOR NO KEY UPDATE", [session.pk]
            )
        run = Run.objects.create(
            session=session,
            user_id=session.user_id,
            acting_user=acting_user if acting_user and acting_user.pk != session.user_id else None,
            parent_id=(
                Subquery(
                    Run.objects.filter(session_id=session.pk).order_by("-shown_at", "-id").values("id")[:1]
                )
                if parent_pk == SHOWN_END
                else parent_pk
            ),
            status=status,
            input=input,
            model_id=model_id,
            model_provider=model_provider,
            started_at=now if status == Run.Status.RUNNING else None,
            remember=remember,
            **({"run_id": run_id} if run_id is not None else {}),
        )
        Message.objects.create(run=run, session=session, role=Message.Role.USER, content=input, position=0)
    if parent_pk == SHOWN_END:
        # The INSERT chose the parent: the field loads from the row when first read, if ever.
        run.__dict__.pop("parent_id")
    return run


def run_input_replace(*, run_id: str, input: str) -> None:
    """What the person said, changed before the model heard it (a pre-hook masked a card number, say):
    the run and its user message keep the changed text, as Agno stores it."""
    text = _check_message(input)
    with transaction.atomic():
        Run.objects.filter(run_id=run_id).update(input=text)
        Message.objects.filter(run__run_id=run_id, role=Message.Role.USER, position=0).update(content=text)


def run_claim(*, run_id: str, model_id: str = "", model_provider: str = "") -> Run | None:
    """Move a pending run to running; exactly one caller wins, the others get None."""
    claimed = Run.objects.filter(run_id=run_id, status=Run.Status.PENDING).update(
        status=Run.Status.RUNNING, started_at=timezone.now(), model_id=model_id, model_provider=model_provider
    )
    if claimed != 1:
        return None
    return Run.objects.select_related("session", "user").get(run_id=run_id)


def _event_row(run_pk: int, event: dict[str, Any]) -> RunEvent:
    return RunEvent(
        run_id=run_pk,
        kind=event["kind"],
        name=storable(event["name"][:200]),
        started_at=event["started_at"],
        ended_at=event.get("ended_at"),
        input_tokens=max(0, event.get("input_tokens") or 0),
        output_tokens=max(0, event.get("output_tokens") or 0),
        payload=storable_json(event.get("payload") or {}),
    )


def run_events_add(*, run_pk: int, events: Sequence[dict[str, Any]]) -> None:
    """Several timeline entries in one INSERT (a run buffers its own until it ends).

    Entries for a run deleted meanwhile (its session deleted while a follow-up still worked) are
    dropped: there is no timeline left to add them to.
    """
    if not events:
        return
    rows = [_event_row(run_pk, event) for event in events]
    if connection.in_atomic_block:
        # Part of the caller's transaction (a run's end): its commit checks the run is still there.
        RunEvent.objects.bulk_create(rows)
        return
    try:
        with transaction.atomic():
            RunEvent.objects.bulk_create(rows)
    except IntegrityError:
        if Run.objects.filter(pk=run_pk).exists():
            raise
        logger.info("timeline entries for deleted run %s dropped", run_pk)


def run_finish(
    *,
    run_pk: int,
    session_pk: int,
    status: str,
    content: str,
    messages: Sequence[dict[str, Any]],
    input_tokens: int,
    output_tokens: int,
    total_tokens: int,
    started_at: datetime,
    first_token_at: datetime | None,
    error: str = "",
    memories_used: Sequence[str] = (),
    events: Sequence[dict[str, Any]] = (),
    first_position: int = 1,
) -> None:
    """Store the run's new messages, its buffered timeline and its outcome in one transaction.

    `first_position`: where the new messages go (after those a paused run had stored).

    A run someone stopped meanwhile (marked cancelled) stays cancelled, with the text it got: the
    update decides that itself, in the same statement, rather than after a separate read.
    """
    now = timezone.now()
    # A model may send what PostgreSQL cannot store (U+0000, a lone surrogate): kept as U+FFFD.
    content, error = storable(content), storable(error)
    rows = [
        Message(
            run_id=run_pk,
            session_id=session_pk,
            role=m["role"],
            content=storable(m.get("content") or ""),
            tool_calls=storable_json(m.get("tool_calls") or []),
            tool_call_id=storable(m.get("tool_call_id") or ""),
            from_history=bool(m.get("from_history")),
            position=index,
        )
        for index, m in enumerate(messages, start=first_position)
    ]
    cancelled = Run.Status.CANCELLED
    with transaction.atomic():
        if rows:
            Message.objects.bulk_create(rows)
        run_events_add(run_pk=run_pk, events=events)
        Run.objects.filter(pk=run_pk).update(
            status=Case(When(status=cancelled, then=Value(cancelled)), default=Value(status)),
            content=content,
            error=error,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=total_tokens,
            started_at=started_at,
            first_token_at=first_token_at,
            ended_at=now,
            memories_used=list(memories_used),
        )
        AgentSession.objects.filter(pk=session_pk).update(updated_at=now)


def run_resume(
    *, run_id: str, username: str | None, session_id: str | None = None
) -> tuple[Run, list[dict[str, Any]], int]:
    """A paused run of `username` (None: whoever's) back to running, at most once: the run, its stored
    messages after the user's (rows of Message values), and the position its next message takes.

    RunNotFound when there is none, it is another person's or not of `session_id`; InvalidInput when
    it is not paused.
    """
    with transaction.atomic():
        run = (
            Run.objects.select_for_update(of=("self",))
            .select_related("session", "user")
            .filter(run_id=run_id)
            .first()
        )
        if (
            run is None
            or username not in (None, run.user.get_username())
            or session_id not in (None, run.session.session_id)
        ):
            raise RunNotFound(f"run {run_id!r} not found")
        if run.status != Run.Status.PAUSED:
            raise InvalidInput(f"run {run_id!r} is not paused (it is {run.status})")
        Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING)
        run.status = Run.Status.RUNNING
        stored = Message.objects.filter(run=run).order_by("position")
        last = stored.aggregate(last=Max("position"))["last"] or 0
        rows: list[dict[str, Any]] = [
            dict(row)
            for row in stored.filter(position__gt=0, from_history=False).values(
                "role", "content", "tool_calls", "tool_call_id", "from_history"
            )
        ]
    return run, rows, int(last) + 1


def runs_lock(*, runs: QuerySet[Run]) -> None:
    """Lock the rows of runs about to be deleted, so a follow-up's write to them (an event, a summary)
    waits for the delete and then finds them gone, instead of landing between the delete's parts
    and failing its commit on a foreign key."""
    list(runs.select_for_update().values_list("pk", flat=True))


def run_cancel(*, run: Run) -> bool:
    """Ask a pending or running run to stop. True when this call changed its status."""
    now = timezone.now()
    changed = Run.objects.filter(pk=run.pk, status__in=(Run.Status.PENDING, Run.Status.RUNNING)).update(
        status=Run.Status.CANCELLED, ended_at=now
    )
    if changed == 1:
        runs_notify(message={"cancel": run.run_id})  # the process driving it stops it at once
    return changed == 1
