"""Reads that cross relations. Each is one bounded query."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Left
from django.utils import timezone

from agentapp import sql
from agentapp.errors import RunNotFound, SessionNotFound
from agentapp.ownership import acts_for_others, one_visible_to, visible_to

from .models import AgentSession, Message, Run, RunFrame, SessionSummary

HISTORY_ROLES = (Message.Role.USER, Message.Role.ASSISTANT, Message.Role.TOOL)


def history_messages(
    *,
    session_pk: int,
    num_runs: int | None = None,
    num_messages: int | None = None,
    exclude_run_pk: int | None = None,
) -> list[dict[str, Any]]:
    """The messages of the session's last completed runs to replay, oldest first, as dicts: what the
    user and the assistant said, and the tool calls with their results (copies of earlier history
    that a run stored are left out).

    One query whatever the thread's length, bounded by a LIMIT. Read on every turn, so written as
    SQL (see agentapp.sql).
    """
    messages, runs = sql.table(Message), sql.table(Run)
    roles = ", ".join(["%s"] * len(HISTORY_ROLES))
    wanted = (
        f"m.role IN ({roles}) AND NOT m.from_history"
        " AND (m.content <> '' OR m.role = 'tool' OR m.tool_calls <> '[]'::jsonb)"
    )
    params: list[Any] = [*HISTORY_ROLES]
    if num_messages is not None:
        query = (
            f"SELECT m.role, m.content, m.tool_calls, m.tool_call_id FROM {messages} m "
            f"JOIN {runs} r ON r.id = m.run_id WHERE {wanted} AND m.session_id = %s AND r.status = %s"
        )
        params += [session_pk, Run.Status.COMPLETED]
        if exclude_run_pk is not None:
            query += " AND m.run_id <> %s"
            params.append(exclude_run_pk)
        rows = sql.fetch(
            f"{query} ORDER BY m.run_id DESC, m.position DESC LIMIT %s", [*params, max(0, num_messages)]
        )
        rows.reverse()
    else:
        # No session filter on the messages: the run ids imply it, and with one the planner may scan
        # the whole thread.
        recent = f"SELECT id FROM {runs} WHERE session_id = %s AND status = %s"
        params += [session_pk, Run.Status.COMPLETED]
        if exclude_run_pk is not None:
            recent += " AND id <> %s"
            params.append(exclude_run_pk)
        if num_runs is not None:
            recent += " ORDER BY id DESC LIMIT %s"
            params.append(max(0, num_runs))
        query = (
            f"SELECT m.role, m.content, m.tool_calls, m.tool_call_id FROM {messages} m "
            f"WHERE {wanted} AND m.run_id IN ({recent}) ORDER BY m.run_id, m.position"
        )
        rows = sql.fetch(query, params)
    return [
        {
            "role": role,
            "content": content,
            "tool_calls": sql.json_column(calls) or [],
            "tool_call_id": call_id,
        }
        for role, content, calls, call_id in rows
    ]


MESSAGE_FIELDS = ("role", "content", "tool_calls", "tool_call_id", "from_history")


def session_messages(*, session: AgentSession, with_history_copies: bool = False) -> QuerySet[Message]:
    """The thread's messages, oldest first; the copies of earlier history some runs stored
    (`Message.from_history`) only when asked."""
    messages = Message.objects.filter(session=session)
    if not with_history_copies:
        messages = messages.filter(from_history=False)
    return messages.order_by("run_id", "position")


def session_message_rows(*, session: AgentSession) -> list[dict[str, Any]]:
    """Every message of the thread, oldest first, as dicts of MESSAGE_FIELDS."""
    return list(session_messages(session=session).values(*MESSAGE_FIELDS))


def session_runs_with_messages(*, session: AgentSession) -> list[tuple[Run, list[dict[str, Any]]]]:
    """The session's runs, oldest first, each with all it stored (as MESSAGE_FIELDS dicts, history
    copies first): two queries."""
    runs = list(Run.objects.filter(session=session).order_by("id"))
    by_run: dict[int, list[dict[str, Any]]] = {run.pk: [] for run in runs}
    messages = session_messages(session=session, with_history_copies=True).order_by(
        "run_id", "-from_history", "position"
    )
    for row in messages.values("run_id", *MESSAGE_FIELDS):
        by_run.setdefault(row.pop("run_id"), []).append(row)
    return [(run, by_run[run.pk]) for run in runs]


def session_first_input(*, session_id: str) -> str | None:
    """What the user said first in the session."""
    runs = Run.objects.filter(session__session_id=session_id).order_by("id")
    return runs.values_list("input", flat=True).first()


def run_get(*, run_id: str) -> Run:
    """A run with its session and user, whoever owns it (for the work after it); else RunNotFound."""
    run = Run.objects.select_related("session", "user", "acting_user").filter(run_id=run_id).first()
    if run is None:
        raise RunNotFound(f"run {run_id!r} not found")
    return run


def summary_for_context(*, session_pk: int) -> dict[str, Any] | None:
    """The session summary's text and topics, or None: read on every turn, so as SQL (see agentapp.sql)."""
    rows = sql.fetch(
        f"SELECT text, topics FROM {sql.table(SessionSummary)} WHERE session_id = %s", [session_pk]
    )
    if not rows:
        return None
    text, topics = rows[0]
    return {"text": text, "topics": sql.json_column(topics) or []}


def session_summary_get(*, session_pk: int) -> SessionSummary | None:
    return SessionSummary.objects.select_related("last_run").filter(session_id=session_pk).first()


def session_get(*, session_id: str) -> AgentSession | None:
    return AgentSession.objects.select_related("user").filter(session_id=session_id).first()


def sessions_for_user(*, user_pk: int, search: str = "") -> QuerySet[AgentSession]:
    """A user's sessions, newest first; `search` matches titles and message text."""
    sessions = AgentSession.objects.filter(user_id=user_pk)
    search = search.strip()
    if search:
        matching = Message.objects.filter(session_id=OuterRef("pk"), content__icontains=search)
        sessions = sessions.filter(Q(title__icontains=search) | Q(session_id=search) | Exists(matching))
    return sessions.order_by("-updated_at", "-id")


def sessions_of_username(*, username: str, limit: int) -> list[AgentSession]:
    """The sessions of the user named `username` (none for an unknown one), most recently active first."""
    owner = {f"user__{get_user_model().USERNAME_FIELD}": username}
    return list(AgentSession.objects.filter(**owner).order_by("-updated_at", "-id")[: max(0, limit)])


def session_get_for_user(*, session_id: str, user: User) -> AgentSession:
    """The session if `user` owns it (staff may open any); otherwise not found, like a missing one."""
    return one_visible_to(
        AgentSession.objects.select_related("user").filter(session_id=session_id),
        viewer=user,
        not_found=SessionNotFound(f"session {session_id!r} not found"),
    )


def run_get_for_user(*, run_id: str, user: User) -> Run:
    return one_visible_to(
        Run.objects.select_related("session", "user", "acting_user").filter(run_id=run_id),
        viewer=user,
        not_found=RunNotFound(f"run {run_id!r} not found"),
    )


def runs_for_user(
    *,
    user: User,
    username: str = "",
    session_id: str = "",
    status: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Run]:
    """Runs newest first; people see their own, operators their people's too (and may filter by user)."""
    runs = visible_to(Run.objects.select_related("user", "session"), viewer=user)
    if username and acts_for_others(user):
        runs = runs.filter(user__username=username)
    if session_id:
        runs = runs.filter(session__session_id=session_id)
    if status:
        runs = runs.filter(status=status)
    tz = timezone.get_current_timezone()
    if date_from:
        runs = runs.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to and date_to < date.max:  # through the last day there is: no bound
        runs = runs.filter(created_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz))
    return runs.order_by("-created_at", "-id")


class PendingRun(NamedTuple):
    pk: int
    run_id: str
    input_head: str
    content_head: str


def summary_runs_pending(
    *, session_pk: int, after_run_pk: int | None, limit: int, max_chars: int
) -> list[PendingRun]:
    """The session's completed runs after `after_run_pk`, oldest first, at most `limit`.

    Only ids and the first `max_chars` of each input and reply are read, so one summary fold
    reads a bounded amount whatever the replies' length.
    """
    runs = Run.objects.filter(session_id=session_pk, status=Run.Status.COMPLETED)
    if after_run_pk is not None:
        runs = runs.filter(pk__gt=after_run_pk)
    heads = runs.annotate(input_head=Left("input", max_chars), content_head=Left("content", max_chars))
    rows = heads.order_by("pk").values_list("pk", "run_id", "input_head", "content_head")[: max(0, limit)]
    return [PendingRun(*row) for row in rows]


# --- the chat page ----------------------------------------------------------------------
def sessions_for_sidebar(*, user_pk: int, search: str = "", limit: int = 50) -> list[AgentSession]:
    """`sessions_for_user` with each session's first message (`first_input`), for untitled sessions."""
    first_input = Run.objects.filter(session_id=OuterRef("pk")).order_by("id").values("input")[:1]
    sessions = sessions_for_user(user_pk=user_pk, search=search).annotate(first_input=Subquery(first_input))
    return list(sessions[: max(0, limit)])


def thread_runs(*, session_pk: int, before_pk: int | None = None, limit: int = 15) -> tuple[list[Run], bool]:
    """The session's last `limit` runs before `before_pk`, oldest first, and whether older ones exist.

    Each run is one exchange (the user's message and the reply), so 15 runs are the last 30 messages.
    The memory changes each run made come along in one more query, for its "remembered" chips.
    """
    runs = Run.objects.filter(session_id=session_pk)
    if before_pk is not None:
        runs = runs.filter(pk__lt=before_pk)
    rows = list(runs.order_by("-id").prefetch_related("memory_changes")[: max(0, limit) + 1])
    has_older = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return rows, has_older


def run_for_render(*, run_pk: int) -> Run:
    return Run.objects.select_related("session").prefetch_related("memory_changes").get(pk=run_pk)


def session_is_last_run(*, run: Run) -> bool:
    return not Run.objects.filter(session_id=run.session_id, pk__gt=run.pk).exists()


def session_for_sidebar(*, session_pk: int) -> AgentSession | None:
    first_input = Run.objects.filter(session_id=OuterRef("pk")).order_by("id").values("input")[:1]
    return AgentSession.objects.annotate(first_input=Subquery(first_input)).filter(pk=session_pk).first()


# --- the sweep: completed runs whose follow-up work never happened (a broker outage) -----------
MISSED_BATCH = 500  # per kind and sweep; the next sweep takes the rest


def runs_settled(*, settled_before: timedelta, horizon: timedelta) -> QuerySet[Run]:
    """Runs that completed between `horizon` and `settled_before` ago: older ones are history, newer
    ones may still have their follow-up in flight."""
    now = timezone.now()
    return Run.objects.filter(
        status=Run.Status.COMPLETED, ended_at__lt=now - settled_before, ended_at__gte=now - horizon
    )


def sessions_behind_their_summary(*, settled_before: timedelta, horizon: timedelta) -> list[str]:
    """Session ids whose summary does not cover their last settled completed run."""
    covered = SessionSummary.objects.filter(session=OuterRef("session"), last_run_id__gte=OuterRef("pk"))
    behind = runs_settled(settled_before=settled_before, horizon=horizon).filter(~Exists(covered))
    return list(behind.values_list("session__session_id", flat=True).distinct().order_by()[:MISSED_BATCH])


def sessions_missing_title(*, settled_before: timedelta, horizon: timedelta) -> list[str]:
    """Untitled session ids with a settled completed run (their title job was lost)."""
    settled = runs_settled(settled_before=settled_before, horizon=horizon).filter(session__title="")
    return list(settled.values_list("session__session_id", flat=True).distinct().order_by()[:MISSED_BATCH])


SESSION_SORT_FIELDS = {"created_at": "created_at", "updated_at": "updated_at", "session_name": "title"}


def sessions_page(
    *,
    username: str | None,
    search: str = "",
    sort_by: str | None = None,
    sort_order: str = "desc",
    limit: int | None = None,
    offset: int = 0,
) -> list[AgentSession]:
    """Sessions (one person's, or everyone's), `search` matching titles, ids and message text; the
    most recently active first unless `sort_by` ("created_at", "updated_at", "session_name") says."""
    sessions = AgentSession.objects.select_related("user")
    if username is not None:
        sessions = sessions.filter(**{f"user__{get_user_model().USERNAME_FIELD}": username})
    search = search.strip()
    if search:
        matching = Message.objects.filter(session_id=OuterRef("pk"), content__icontains=search)
        sessions = sessions.filter(Q(title__icontains=search) | Q(session_id=search) | Exists(matching))
    field = SESSION_SORT_FIELDS.get(sort_by or "updated_at", "updated_at")
    descending = sort_order.lower() != "asc"
    sessions = sessions.order_by(f"-{field}" if descending else field, "-id" if descending else "id")
    end = None if limit is None else offset + max(0, limit)
    return list(sessions[max(0, offset) : end])


class RunLive(NamedTuple):
    """A live run as another process sees it: its status, its stored frames after a point, the
    last frame stored, and its outcome (for a run whose process died before storing its end)."""

    status: str
    frames: list[tuple[int, str, dict[str, Any]]]
    last_event: str | None
    content: str
    error: str
    ended_ago: float
    never_started: bool  # stopped while pending: no frames will ever come


def run_live(*, run_id: str, after: int) -> RunLive | None:
    """The run's status and its frames after `after`, in one statement; None when it is gone."""
    frames = sql.table(RunFrame)
    rows = sql.fetch(
        "SELECT r.status, r.content, r.error, "
        "COALESCE(EXTRACT(EPOCH FROM now() - r.ended_at), 0)::float, r.started_at IS NULL, "
        f"(SELECT l.event FROM {frames} l WHERE l.run_id = r.id ORDER BY l.seq DESC LIMIT 1), "
        f"f.seq, f.event, f.data FROM {sql.table(Run)} r "
        f"LEFT JOIN {frames} f ON f.run_id = r.id AND f.seq > %s WHERE r.run_id = %s ORDER BY f.seq",
        [after, run_id],
    )
    if not rows:
        return None
    status, content, error, ended_ago, never_started, last_event = rows[0][:6]
    found = [(seq, event, sql.json_column(data)) for *_, seq, event, data in rows if seq is not None]
    return RunLive(status, found, last_event, content, error, ended_ago, never_started)


def run_status(*, run_id: str) -> str | None:
    return Run.objects.filter(run_id=run_id).values_list("status", flat=True).first()
