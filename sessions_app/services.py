"""Every write to sessions, runs, messages and run events goes through here."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from agentapp import sql
from agentapp.agent import errors as runtime_errors
from agentapp.agent.ids import check_session_id
from agentapp.errors import Conflict, InvalidInput, SessionNotFound, SessionOwnedByAnotherUser
from agentapp.storable import storable, storable_json, unstorable

from .models import AgentSession, Message, Run, RunEvent, RunFrame, SessionSummary

logger = logging.getLogger(__name__)
audit = logging.getLogger("agentapp.audit")

MAX_MESSAGE_CHARS = 32_000
MAX_ID_CHARS = 128
# The channel (PostgreSQL LISTEN/NOTIFY) on which web processes tell each other about live runs:
# frames stored ({"run", "seq"}), a Stop ({"cancel"}), a stream elsewhere that wants them ({"watch"}).
RUNS_CHANNEL = "agentapp_runs"


def normalize_user_id(user_id: str) -> str:
    """A user id as usernames are stored: NFKC-normalised (a fullwidth "\uff41lice" is "alice")."""
    return get_user_model().normalize_username((user_id or "").strip())


def user_get_or_create(*, username: str) -> User:
    username = normalize_user_id(username)
    if not username or len(username) > 150:
        raise InvalidInput("user_id must be between 1 and 150 characters")
    User = get_user_model()
    try:
        User.username_validator(username)
    except ValidationError:
        raise InvalidInput("user_id may hold only letters, digits and . @ + - _") from None
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(username=username)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:  # created by a concurrent run
        return User.objects.get(username=username)


def session_get_or_create_for_run(*, session_id: str, username: str, agent_name: str = "") -> AgentSession:
    """The session `session_id` of `username`, created when new; another user's session is refused."""
    try:
        check_session_id(session_id)
    except runtime_errors.InvalidInput as exc:
        raise InvalidInput(exc.message) from None
    username = normalize_user_id(username)
    found = _session_and_owner(session_id)
    if found is None:
        user = user_get_or_create(username=username)
        try:
            with transaction.atomic():
                return AgentSession.objects.create(session_id=session_id, user=user, agent_name=agent_name)
        except IntegrityError:  # created by a concurrent run
            session = AgentSession.objects.select_related("user").get(session_id=session_id)
            found = session, session.user.get_username()
    session, owner = found
    if owner != username:
        raise SessionOwnedByAnotherUser(
            f"session_id {session_id!r} belongs to another user; a session is never shared between users"
        )
    return session


def _check_message(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("message must not be empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"message is longer than {MAX_MESSAGE_CHARS} characters")
    if unstorable(text):
        raise InvalidInput("message must not contain NUL characters or lone surrogates")
    return text


def _session_and_owner(session_id: str) -> tuple[AgentSession, str] | None:
    """The session (the fields a run reads; the others load on access) and its owner's username:
    read on every turn, as SQL."""
    User = get_user_model()
    quote = connection.ops.quote_name
    username = quote(User._meta.get_field(User.USERNAME_FIELD).column)  # type: ignore[union-attr, arg-type]
    user_key = quote(User._meta.pk.column)  # type: ignore[arg-type]
    rows = sql.fetch(
        f"SELECT s.id, s.user_id, s.title, s.session_state, u.{username} FROM {sql.table(AgentSession)} s "
        f"JOIN {sql.table(User)} u ON u.{user_key} = s.user_id WHERE s.session_id = %s",
        [session_id],
    )
    if not rows:
        return None
    pk, user_pk, title, state, owner = rows[0]
    # What a run reads of its session (its title, its state) comes in this row: no query each later.
    fields = ["id", "session_id", "user_id", "title", "session_state"]
    return AgentSession.from_db(
        connection.alias, fields, [pk, session_id, user_pk, title, sql.json_column(state)]
    ), owner


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
) -> Run:
    """The Run and the user's message, in one transaction, so the message is never lost.

    `parent_pk`: the run it follows, of the same session; by default the end of the thread shown,
    read in the INSERT itself. Given (None: the thread's first turn), the new run is a version of
    that turn, beside the runs that already follow it. Either way the new run is now the end of
    the thread shown.

    `acting_user` is who sent it when that is not the session's owner (an operator, a service key):
    the run stays the owner's, and the run page says who really spoke.
    """
    _check_message(input)
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
        )
        Message.objects.create(run=run, session=session, role=Message.Role.USER, content=input, position=0)
    if parent_pk == SHOWN_END:
        # The INSERT chose the parent: the field loads from the row when first read, if ever.
        run.__dict__.pop("parent_id")
    return run


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
) -> None:
    """Store the run's new messages, its buffered timeline and its outcome in one transaction.

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
        for index, m in enumerate(messages, start=1)
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


def session_create(*, user: User, title: str = "", agent_name: str = "") -> AgentSession:
    return AgentSession.objects.create(user=user, title=_check_title(title), agent_name=agent_name)


def _check_title(title: str) -> str:
    title = storable(" ".join((title or "").split()))
    if len(title) > 200:
        raise InvalidInput("title is longer than 200 characters")
    return title


def session_rename(*, session: AgentSession, title: str) -> AgentSession:
    session.title = _check_title(title)
    session.save(update_fields=["title", "updated_at"])
    return session


def session_delete(*, session: AgentSession, by: User | None = None) -> None:
    """Delete the thread with its runs, messages, events and summary (memories stay: they are the user's).

    A deletion `by` someone other than the owner is written to the audit log.
    """
    with transaction.atomic():
        runs_lock(runs=Run.objects.filter(session=session))
        session.delete()
    if by is not None and by.pk != session.user_id:
        audit.warning(
            "%s deleted session %s of user #%s", by.get_username(), session.session_id, session.user_id
        )


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


def runs_notify(*, message: dict[str, Any]) -> None:
    """Tell every web process about a live run (delivered on commit; the listeners are in live/)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [RUNS_CHANNEL, json.dumps(message)])


def run_frames_add(*, run_id: str, frames: Sequence[tuple[int, str, dict[str, Any]]]) -> None:
    """Store frames of a live run and announce them, in one statement. Idempotent: a frame already
    stored (a retry after a lost answer) is left alone; a deleted run stores nothing."""
    if not frames:
        return
    values = ", ".join(["(%s::int, %s::text, %s::jsonb)"] * len(frames))
    params: list[Any] = []
    for seq, event, data in frames:
        params += [seq, event, json.dumps(storable_json(data))]
    notice = json.dumps({"run": run_id, "seq": frames[-1][0]})
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH added AS (INSERT INTO {sql.table(RunFrame)} (run_id, seq, event, data) "
            f"SELECT r.id, v.seq, v.event, v.data FROM {sql.table(Run)} r, "
            f"(VALUES {values}) AS v(seq, event, data) "
            "WHERE r.run_id = %s ON CONFLICT DO NOTHING) SELECT pg_notify(%s, %s)",
            [*params, run_id, RUNS_CHANNEL, notice],
        )


# --- versions: a message edited, an answer regenerated ----------------------------------------
def run_regenerate(
    *, run: Run, model_id: str = "", model_provider: str = "", acting_user: User | None = None
) -> Run:
    """A new pending version of `run`'s turn with the same message: beside it, shown from now on.
    The run and its later turns stay, a version away; so do the memory changes it made."""
    return run_edit(
        run=run, input=run.input, model_id=model_id, model_provider=model_provider, acting_user=acting_user
    )


def run_edit(
    *,
    run: Run,
    input: str,
    model_id: str = "",
    model_provider: str = "",
    acting_user: User | None = None,
    stop_unfinished: bool = False,
) -> Run:
    """A new pending version of `run`'s turn with the message `input`, as `run_regenerate`. A run
    still being answered is refused, or with `stop_unfinished` stopped first (the chat's edit)."""
    _check_message(input)  # a refused edit stops nothing
    if not run.is_finished:
        if not stop_unfinished:
            raise Conflict(
                f"run {run.run_id!r} is still running: cancel it first", detail={"status": run.status}
            )
        run_cancel(run=run)
    return run_create(
        session=run.session,
        input=input,
        model_id=model_id,
        model_provider=model_provider,
        status=Run.Status.PENDING,
        acting_user=acting_user,
        parent_pk=run.parent_id,
    )


def run_version_show(*, run: Run) -> None:
    """Show the version `run`: the thread shown ends where it last ended below it (at the run shown
    last among `run` and its later turns), which becomes the run shown last. One statement."""
    runs = sql.table(Run)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE below(id) AS (SELECT %s::bigint UNION ALL "
            f"SELECT r.id FROM {runs} r JOIN below ON r.parent_id = below.id) "
            f"UPDATE {runs} SET shown_at = STATEMENT_TIMESTAMP() WHERE id = (SELECT r.id FROM {runs} r "
            "JOIN below ON r.id = below.id ORDER BY r.shown_at DESC, r.id DESC LIMIT 1)",
            [run.pk],
        )


def session_title_set_if_empty(*, session_id: str, title: str) -> bool:
    """Set an automatic title unless the session has one (a person's rename always wins)."""
    title = _check_title(title[:400])[:200]
    if not title:
        return False
    return AgentSession.objects.filter(session_id=session_id, title="").update(title=title) == 1


MAX_SESSION_STATE_BYTES = 64 * 1024


def clean_session_state(state: Any) -> dict[str, Any]:
    """A session state as stored: a JSON object of at most MAX_SESSION_STATE_BYTES."""
    if not isinstance(state, dict):
        raise InvalidInput("session_state must be a JSON object")
    try:
        encoded = json.dumps(state, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"session_state must hold only JSON values ({exc})") from exc
    if len(encoded.encode()) > MAX_SESSION_STATE_BYTES:
        raise InvalidInput(f"session_state is larger than {MAX_SESSION_STATE_BYTES // 1024} KiB as JSON")
    result: dict[str, Any] = storable_json(json.loads(encoded))
    return result


def session_state_set(*, session_id: str, state: Any) -> None:
    """Replace a session's state (what its runs' tools and the API write)."""
    cleaned = clean_session_state(state)
    updated = AgentSession.objects.filter(session_id=session_id).update(
        session_state=cleaned, updated_at=timezone.now()
    )
    if not updated:
        raise SessionNotFound(f"session {session_id!r} not found")


def session_start(
    *,
    user: User,
    message: str,
    agent_name: str = "",
    model_id: str = "",
    model_provider: str = "",
) -> Run:
    """A new session with its first (pending) run, all or nothing: a refused message leaves no empty chat."""
    with transaction.atomic():
        session = session_create(user=user, agent_name=agent_name)
        return run_create(
            session=session,
            input=message,
            model_id=model_id,
            model_provider=model_provider,
            status=Run.Status.PENDING,
        )


# --- session summaries -------------------------------------------------------------------
def session_summary_save(
    *,
    session_id: str,
    text: str,
    topics: Sequence[str],
    last_run_id: str,
    expected_last_run_id: str | None,
) -> bool:
    """Store a fold if the summary still covers `expected_last_run_id`; False means it was dropped.

    One conditional UPDATE (or, for a first summary, one INSERT guarded by the one-per-session
    constraint), so two workers folding the same base apply it exactly once. False too when the
    session or those runs were deleted meanwhile.
    """
    wanted = [i for i in (last_run_id, expected_last_run_id) if i]
    rows = Run.objects.filter(session__session_id=session_id, run_id__in=wanted)
    keys: dict[str, tuple[int, int]] = {
        run_id: (pk, session) for run_id, pk, session in rows.values_list("run_id", "pk", "session_id")
    }
    if last_run_id not in keys or (expected_last_run_id and expected_last_run_id not in keys):
        return False
    last_pk, session_pk = keys[last_run_id]
    expected_pk = keys[expected_last_run_id][0] if expected_last_run_id else None
    values = {"text": storable(text), "topics": storable_json(list(topics)), "last_run_id": last_pk}
    updated = SessionSummary.objects.filter(session_id=session_pk, last_run_id=expected_pk).update(
        **values, updated_at=timezone.now()
    )
    if updated:
        return True
    if expected_pk is not None:
        return False
    try:
        with transaction.atomic():
            SessionSummary.objects.create(session_id=session_pk, **values)
    except IntegrityError:  # another worker wrote the first summary meanwhile
        return False
    return True


def session_summary_reset(*, session: AgentSession) -> None:
    """Forget what the summary covers, so the next update refolds the thread from its first run."""
    SessionSummary.objects.filter(session=session).update(
        text="", topics=[], last_run=None, updated_at=timezone.now()
    )


# --- failure handling: what a dead process or a down broker left behind ----------------------
STALE_RUN_ERROR = (
    "The run was interrupted before it finished (its process stopped or lost the database); "
    "send the message again to retry."
)


def runs_sweep_stale(*, older_than: timedelta) -> int:
    """Mark runs left `running` (or never claimed, `pending`) for longer than `older_than` as `error`.

    One conditional UPDATE, so a run that finishes meanwhile is left alone; its messages stay.
    Returns how many runs it ended.
    """
    cutoff = timezone.now() - older_than
    running = Q(status=Run.Status.RUNNING) & (
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff)
    )
    pending = Q(status=Run.Status.PENDING, created_at__lt=cutoff)
    return Run.objects.filter(running | pending).update(
        status=Run.Status.ERROR, error=STALE_RUN_ERROR, ended_at=timezone.now()
    )


def run_frames_prune(*, older_than: timedelta) -> int:
    """Forget the live frames of runs that ended longer ago than `older_than`: the run's row and
    messages keep the reply; a stream of such a run then gets its stored outcome as one event."""
    cutoff = timezone.now() - older_than
    deleted, _ = RunFrame.objects.filter(run__ended_at__lt=cutoff).delete()
    return deleted
