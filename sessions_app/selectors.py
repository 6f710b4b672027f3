"""Reads that cross relations. Each is one bounded query."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from agentapp.errors import RunNotFound, SessionNotFound
from agentapp.ownership import acts_for_others, one_visible_to, visible_to
from agentapp.platform import sql

from .models import (
    AgentSession,
    Message,
    PersonSettings,
    Run,
    RunEvent,
    RunFeedback,
    RunFrame,
    SessionSummary,
    lease_free_sql,
)

HISTORY_ROLES = (Message.Role.USER, Message.Role.ASSISTANT, Message.Role.TOOL)


def _leaf_sql() -> str:
    """SQL for the id of the run that ends the thread shown of session `%s`: the one shown last."""
    return f"SELECT id FROM {sql.table(Run)} WHERE session_id = %s ORDER BY shown_at DESC, id DESC LIMIT 1"


def _ancestors_sql(*, start: str, completed_limit: bool) -> str:
    """A recursive CTE `up(id, status, done)`: the run `start` (SQL giving one id) and the runs
    before it in its version of the thread, newest first; with `completed_limit`, it stops once it
    holds `%s` completed runs (`done` counts them), so a turn reads a bounded part of the thread."""
    runs = sql.table(Run)
    done = "(r.status = 'completed')::int"
    stop = " WHERE up.done < %s" if completed_limit else ""
    return (
        f"WITH RECURSIVE up(id, parent_id, status, done) AS ("
        f"SELECT r.id, r.parent_id, r.status, {done} FROM {runs} r WHERE r.id = ({start}) "
        f"UNION ALL SELECT r.id, r.parent_id, r.status, up.done + {done} "
        f"FROM {runs} r JOIN up ON r.id = up.parent_id{stop})"
    )


def history_messages(
    *,
    run_pk: int,
    num_runs: int | None = None,
    num_messages: int | None = None,
) -> list[dict[str, Any]]:
    """The messages to replay before run `run_pk`, oldest first, as dicts: what the user and the
    assistant said in the completed runs before it in its version of the thread, with the tool
    calls and their results (copies of earlier history that a run stored are left out).

    One query whatever the thread's length: it walks back from the run's parent only as far as it
    needs (`num_runs` completed runs, or as many as `num_messages` could take). Read on every turn,
    so written as SQL (see agentapp.platform.sql).
    """
    limit = num_messages if num_messages is not None else num_runs
    if limit is not None and limit <= 0:
        return []
    messages = sql.table(Message)
    roles = ", ".join(["%s"] * len(HISTORY_ROLES))
    start = f"SELECT parent_id FROM {sql.table(Run)} WHERE id = %s"
    chain = _ancestors_sql(start=start, completed_limit=limit is not None)
    params: list[Any] = [run_pk] + ([limit] if limit is not None else [])
    query = (
        f"{chain} SELECT m.role, m.content, m.tool_calls, m.tool_call_id FROM {messages} m "
        f"WHERE m.run_id IN (SELECT id FROM up WHERE status = %s) AND m.role IN ({roles}) "
        "AND NOT m.from_history AND (m.content <> '' OR m.role = 'tool' OR m.tool_calls <> '[]'::jsonb)"
    )
    params += [Run.Status.COMPLETED, *HISTORY_ROLES]
    # A run comes after the one it follows, so ids order the runs of one version of the thread.
    if num_messages is not None:
        rows = sql.fetch(f"{query} ORDER BY m.run_id DESC, m.position DESC LIMIT %s", [*params, num_messages])
        rows.reverse()
    else:
        rows = sql.fetch(f"{query} ORDER BY m.run_id, m.position", params)
    return [
        {
            "role": role,
            "content": content,
            "tool_calls": sql.json_column(calls) or [],
            "tool_call_id": call_id,
        }
        for role, content, calls, call_id in rows
    ]


def shown_path_pks(*, session_pk: int, before_pk: int | None = None, limit: int | None = None) -> list[int]:
    """The ids of the runs of the thread shown, newest first: from its end (or from the run before
    `before_pk`) back, at most `limit`."""
    start = (
        f"SELECT parent_id FROM {sql.table(Run)} WHERE id = %s AND session_id = %s"
        if before_pk is not None
        else _leaf_sql()
    )
    params: list[Any] = [before_pk, session_pk] if before_pk is not None else [session_pk]
    query = f"{_ancestors_sql(start=start, completed_limit=False)} SELECT id FROM up"
    if limit is not None:
        # PostgreSQL walks a recursive query only as far as its reader fetches: one page reads one
        # page of the thread, however long.
        query += " LIMIT %s"
        params.append(max(0, limit))
    return [pk for (pk,) in sql.fetch(query, params)]


MESSAGE_FIELDS = ("role", "content", "tool_calls", "tool_call_id", "from_history")


def session_messages(*, session: AgentSession, with_history_copies: bool = False) -> QuerySet[Message]:
    """The thread's messages, oldest first; the copies of earlier history some runs stored
    (`Message.from_history`) only when asked."""
    messages = Message.objects.filter(session=session)
    if not with_history_copies:
        messages = messages.filter(from_history=False)
    return messages.order_by("run_id", "position")


def session_message_rows(*, session: AgentSession) -> list[dict[str, Any]]:
    """The messages of the thread shown (of each turn, the version shown), oldest first, as dicts of
    MESSAGE_FIELDS."""
    shown = shown_path_pks(session_pk=session.pk)
    return list(session_messages(session=session).filter(run_id__in=shown).values(*MESSAGE_FIELDS))


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


def summary_for_context(*, session_pk: int, run_pk: int) -> dict[str, Any] | None:
    """The session summary's text and topics for run `run_pk`, or None; also None when the summary
    is of another version of the thread (its last run is not before this run): read on every turn,
    so as SQL (see agentapp.platform.sql). The walk back stops at the summary's last run, usually a few
    turns back."""
    summaries, runs = sql.table(SessionSummary), sql.table(Run)
    rows = sql.fetch(
        f"WITH RECURSIVE s AS (SELECT text, topics, last_run_id FROM {summaries} WHERE session_id = %s), "
        f"up(id, parent_id) AS (SELECT r.id, r.parent_id FROM {runs} r "
        "WHERE r.id = %s AND EXISTS (SELECT 1 FROM s WHERE last_run_id IS NOT NULL) "
        f"UNION ALL SELECT r.id, r.parent_id FROM {runs} r JOIN up ON r.id = up.parent_id "
        "WHERE up.id <> (SELECT last_run_id FROM s)) "
        "SELECT text, topics, last_run_id IS NULL OR last_run_id IN (SELECT id FROM up) FROM s",
        [session_pk, run_pk],
    )
    if not rows or not rows[0][2]:
        return None
    text, topics, _ = rows[0]
    return {"text": text, "topics": sql.json_column(topics) or []}


def session_summary_get(*, session_pk: int) -> SessionSummary | None:
    return SessionSummary.objects.select_related("last_run").filter(session_id=session_pk).first()


def _kept() -> QuerySet[AgentSession]:
    """Sessions not deleted: one its person deleted (and may still undo) is hidden from every read."""
    return AgentSession.objects.filter(deleted_at__isnull=True)


def session_get(*, session_id: str) -> AgentSession | None:
    return _kept().select_related("user").filter(session_id=session_id).first()


def session_has_settled_runs(*, session: AgentSession) -> bool:
    """Whether a run of the session has ended or waits on no process (what a fork copies)."""
    return session.runs.filter(status__in=Run.TERMINAL).exists()


def sessions_for_user(*, user_pk: int, search: str = "", temporary: bool = False) -> QuerySet[AgentSession]:
    """A user's sessions, newest first; `search` matches titles and message text. Their ordinary
    chats, or with `temporary` their temporary ones (which no list shows unless asked)."""
    sessions = _kept().filter(user_id=user_pk, temporary=temporary)
    search = search.strip()
    if search:
        matching = Message.objects.filter(session_id=OuterRef("pk"), content__icontains=search)
        sessions = sessions.filter(Q(title__icontains=search) | Q(session_id=search) | Exists(matching))
    return sessions.order_by("-updated_at", "-id")


def sessions_of_username(*, username: str, limit: int) -> list[AgentSession]:
    """The sessions of the user named `username` (none for an unknown one), most recently active
    first: what `search_past_sessions` looks through, so never a temporary chat."""
    owner = {f"user__{get_user_model().USERNAME_FIELD}": username}
    sessions = _kept().filter(**owner, temporary=False)
    return list(sessions.order_by("-updated_at", "-id")[: max(0, limit)])


def session_get_for_user(*, session_id: str, user: User) -> AgentSession:
    """The session if `user` owns it (staff may open any); otherwise not found, like a missing one."""
    return one_visible_to(
        _kept().select_related("user").filter(session_id=session_id),
        viewer=user,
        not_found=SessionNotFound(f"session {session_id!r} not found"),
    )


def session_for_undo_get(*, session_id: str, user: User, within: timedelta) -> AgentSession:
    """The session as `session_get_for_user` finds it, or deleted less than `within` ago (its Undo
    may still bring it back); otherwise not found."""
    recent = Q(deleted_at__isnull=True) | Q(deleted_at__gte=timezone.now() - within)
    first_input = Run.objects.filter(session_id=OuterRef("pk")).order_by("id").values("input")[:1]
    return one_visible_to(
        AgentSession.objects.select_related("user")
        .annotate(first_input=Subquery(first_input))  # its label in the toast, untitled
        .filter(recent, session_id=session_id),
        viewer=user,
        not_found=SessionNotFound(f"session {session_id!r} not found (too late to undo its deletion?)"),
    )


def run_in_session(*, run_id: str, session_pk: int) -> Run:
    """A run of this session, else RunNotFound."""
    run = Run.objects.filter(run_id=run_id, session_id=session_pk).first()
    if run is None:
        raise RunNotFound(f"run {run_id!r} is not in this chat (was it deleted?): reload the page")
    return run


def run_get_for_user(*, run_id: str, user: User) -> Run:
    return one_visible_to(
        Run.objects.select_related("session", "user", "acting_user", "parent").filter(
            run_id=run_id, session__deleted_at__isnull=True
        ),
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
    runs = visible_to(
        Run.objects.select_related("user", "session", "parent").filter(session__deleted_at__isnull=True),
        viewer=user,
    )
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
) -> tuple[list[PendingRun], bool]:
    """The completed runs of the thread shown after `after_run_pk`, oldest first, at most `limit`;
    and whether `after_run_pk` is on the thread shown at all (False: the summary is of another
    version, and these are the runs from the thread's start).

    Only ids and the first `max_chars` of each input and reply are read, so one summary fold
    reads a bounded amount whatever the replies' length.
    """
    runs = sql.table(Run)
    after = after_run_pk if after_run_pk is not None else 0
    rows = sql.fetch(
        "WITH RECURSIVE up(id, parent_id) AS ("
        f"SELECT id, parent_id FROM {runs} WHERE id = ({_leaf_sql()}) "
        f"UNION ALL SELECT r.id, r.parent_id FROM {runs} r JOIN up ON r.id = up.parent_id "
        "WHERE up.id <> %s) "
        "SELECT EXISTS (SELECT 1 FROM up WHERE id = %s), "
        "r.id, r.run_id, LEFT(r.input, %s), LEFT(r.content, %s) FROM (SELECT 1) AS one "
        f"LEFT JOIN ({runs} r JOIN up ON up.id = r.id AND r.status = %s AND r.id <> %s) "
        "ON TRUE ORDER BY r.id LIMIT %s",
        [session_pk, after, after, max_chars, max_chars, Run.Status.COMPLETED, after, max(0, limit)],
    )
    on_path = after_run_pk is None or bool(rows and rows[0][0])
    return [PendingRun(*row[1:]) for row in rows if row[1] is not None], on_path


# --- the chat page ----------------------------------------------------------------------
def sessions_for_sidebar(*, user_pk: int, search: str = "", limit: int = 50) -> list[AgentSession]:
    """`sessions_for_user` with each session's first message (`first_input`), for untitled sessions."""
    first_input = Run.objects.filter(session_id=OuterRef("pk")).order_by("id").values("input")[:1]
    sessions = sessions_for_user(user_pk=user_pk, search=search).annotate(first_input=Subquery(first_input))
    return list(sessions[: max(0, limit)])


def thread_runs(*, session_pk: int, before_pk: int | None = None, limit: int = 15) -> tuple[list[Run], bool]:
    """The last `limit` runs of the thread shown (before `before_pk`), oldest first, and whether
    older ones exist; each with its versions (see `versions_attach`).

    Each run is one exchange (the user's message and the reply), so 15 runs are the last 30 messages.
    The memory changes each run made come along in one more query, for its "remembered" chips,
    and the person's feedback in one more, for its thumbs.
    """
    pks = shown_path_pks(session_pk=session_pk, before_pk=before_pk, limit=max(0, limit) + 1)
    has_older = len(pks) > limit
    rows = list(
        Run.objects.filter(pk__in=pks[:limit])
        .select_related("session")  # a message of a temporary chat offers no "Forget"
        .order_by("id")
        .prefetch_related("memory_changes", "memory_proposals", person_feedback_prefetch())
    )
    versions_attach(runs=rows, session_pk=session_pk)
    return rows, has_older


def run_for_render(*, run_pk: int) -> Run:
    run = (
        Run.objects.select_related("session")
        .prefetch_related("memory_changes", "memory_proposals", person_feedback_prefetch())
        .get(pk=run_pk)
    )
    versions_attach(runs=[run], session_pk=run.session_id)
    return run


# --- feedback on replies ------------------------------------------------------------------
def person_feedback_prefetch() -> Prefetch:
    """Each run's feedback from its own person (the only one the services let give it), as
    `run.person_feedback`: a list of none or one."""
    own = RunFeedback.objects.filter(user_id=F("run__user_id")).select_related("user")
    return Prefetch("feedback", queryset=own, to_attr="person_feedback")


def run_feedback_get(*, run: Run) -> RunFeedback | None:
    """The feedback the run's person gave on it, or None."""
    return RunFeedback.objects.select_related("user").filter(run_id=run.pk, user_id=run.user_id).first()


def versions_attach(*, runs: list[Run], session_pk: int) -> None:
    """Set on each run its versions, the runs that share its parent (itself included), oldest first:
    `versions` (their run ids), `version` (its number among them, from 1), `version_before` and
    `version_after` (the run ids the arrows to the previous and next lead to, or None) and
    `other_versions_changed_memory` (whether another version wrote to memory: those writes stay).
    One query."""
    if not runs:
        return
    parents = {run.parent_id for run in runs}
    siblings = Q(parent_id__in=[p for p in parents if p is not None])
    if None in parents:
        siblings |= Q(parent__isnull=True)
    rows = (
        Run.objects.filter(siblings, session_id=session_pk)
        .annotate(changes=Count("memory_changes"))
        .order_by("id")
        .values_list("parent_id", "run_id", "changes")
    )
    by_parent: dict[int | None, list[tuple[str, int]]] = {}
    for parent_pk, run_id, changes in rows:
        by_parent.setdefault(parent_pk, []).append((run_id, changes))
    for run in runs:
        versions = by_parent.get(run.parent_id) or [(run.run_id, 0)]
        ids = [run_id for run_id, _ in versions]
        run.versions = ids  # type: ignore[attr-defined]
        at = ids.index(run.run_id) if run.run_id in ids else 0
        run.version = at + 1  # type: ignore[attr-defined]
        run.version_before = ids[at - 1] if at > 0 else None  # type: ignore[attr-defined]
        run.version_after = ids[at + 1] if at + 1 < len(ids) else None  # type: ignore[attr-defined]
        run.other_versions_changed_memory = any(  # type: ignore[attr-defined]
            changes for run_id, changes in versions if run_id != run.run_id
        )


def session_for_sidebar(*, session_pk: int) -> AgentSession | None:
    first_input = Run.objects.filter(session_id=OuterRef("pk")).order_by("id").values("input")[:1]
    return _kept().annotate(first_input=Subquery(first_input)).filter(pk=session_pk).first()


# --- the sweep: completed runs whose follow-up work never happened (a broker outage) -----------
MISSED_BATCH = 500  # per kind and sweep; the next sweep takes the rest


def runs_settled(*, settled_before: timedelta, horizon: timedelta) -> QuerySet[Run]:
    """Runs that completed between `horizon` and `settled_before` ago: older ones are history, newer
    ones may still have their follow-up in flight. Not those of temporary chats: they have none."""
    now = timezone.now()
    return Run.objects.filter(
        status=Run.Status.COMPLETED,
        ended_at__lt=now - settled_before,
        ended_at__gte=now - horizon,
        session__temporary=False,
    )


def sessions_behind_their_summary(*, settled_before: timedelta, horizon: timedelta) -> list[str]:
    """Session ids whose summary does not cover their last settled completed run (the end of the
    thread shown: a run of a version not shown has nothing to add)."""
    covered = SessionSummary.objects.filter(session=OuterRef("session"), last_run_id__gte=OuterRef("pk"))
    shown_later = Run.objects.filter(session_id=OuterRef("session_id"), shown_at__gt=OuterRef("shown_at"))
    behind = runs_settled(settled_before=settled_before, horizon=horizon).filter(
        ~Exists(covered), ~Exists(shown_later)
    )
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
    most recently active first unless `sort_by` ("created_at", "updated_at", "session_name") says.
    Never a temporary chat: only its id finds it."""
    sessions = _kept().select_related("user").filter(temporary=False)
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
    last_seq: int | None = None  # the last frame stored (None: none ever was)
    lease_free: bool = False  # no web process holds the run's lease (services/leases.py)


def run_live(*, run_id: str, after: int) -> RunLive | None:
    """The run's status and its frames after `after`, in one statement; None when it is gone."""
    frames = sql.table(RunFrame)
    rows = sql.fetch(
        f"WITH lease AS (SELECT {lease_free_sql()} AS free) "
        "SELECT r.status, r.content, r.error, "
        "COALESCE(EXTRACT(EPOCH FROM now() - r.ended_at), 0)::float, r.started_at IS NULL, "
        f"(SELECT l.event FROM {frames} l WHERE l.run_id = r.id ORDER BY l.seq DESC LIMIT 1), "
        f"(SELECT max(l.seq) FROM {frames} l WHERE l.run_id = r.id), lease.free, "
        f"f.seq, f.event, f.data FROM lease, {sql.table(Run)} r "
        f"LEFT JOIN {frames} f ON f.run_id = r.id AND f.seq > %s WHERE r.run_id = %s ORDER BY f.seq",
        [run_id, run_id, after, run_id],
    )
    if not rows:
        return None
    status, content, error, ended_ago, never_started, last_event, last_seq, lease_free = rows[0][:8]
    found = [(seq, event, sql.json_column(data)) for *_, seq, event, data in rows if seq is not None]
    return RunLive(status, found, last_event, content, error, ended_ago, never_started, last_seq, lease_free)


def run_status(*, run_id: str) -> str | None:
    return Run.objects.filter(run_id=run_id).values_list("status", flat=True).first()


def run_recall_strategy(*, run: Run) -> str | None:
    """How the run's memories were chosen ("all": every one fitted the budget; else how they were
    ranked), as its context step recorded it; None for a run with no context step."""
    return (
        RunEvent.objects.filter(run=run, kind=RunEvent.Kind.CONTEXT)
        .values_list("payload__recall__strategy", flat=True)
        .first()
    )


def person_settings(*, user_pk: int) -> PersonSettings:
    """The person's settings: their saved choices, else (unsaved) the operator's defaults."""
    found = PersonSettings.objects.filter(user_id=user_pk).first()
    return found if found is not None else default_person_settings(user_pk=user_pk)


def default_person_settings(*, user_pk: int) -> PersonSettings:
    return PersonSettings(user_id=user_pk, **PersonSettings.operator_defaults())
