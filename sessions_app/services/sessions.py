"""A session's writes: found or made for a run (never another person's), started with its first
run, renamed, titled, its state, deleted (for good, or undoably and restored). A temporary chat is
made so when it begins, and stays so."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from agentapp.agent import errors as runtime_errors
from agentapp.agent.session.ids import check_session_id
from agentapp.errors import InvalidInput, SessionNotFound, SessionOwnedByAnotherUser
from agentapp.platform import sql
from agentapp.platform.storable import storable, storable_json

from ..models import AgentSession, Run
from .people import normalize_user_id, user_get_or_create
from .runs import run_cancel, run_create, runs_lock

audit = logging.getLogger("agentapp.audit")

MAX_ID_CHARS = 128


def session_get_or_create_for_run(
    *,
    session_id: str,
    username: str,
    agent_name: str = "",
    temporary: bool | None = None,
    person: User | None = None,
) -> AgentSession:
    """The session `session_id` of `username`, created when new; another user's session is refused.

    `temporary`: the kind of chat asked for (None: either; a new one is then an ordinary chat). A new
    session is made of that kind; an existing one of the other kind is refused, since a chat never
    changes its kind (an ordinary chat's past was remembered, a temporary one's must not be).
    `person`: `username`'s account if the caller has it at hand (not looked up again).
    """
    try:
        check_session_id(session_id)
    except runtime_errors.InvalidInput as exc:
        raise InvalidInput(exc.message) from None
    username = normalize_user_id(username)
    found = _session_and_owner(session_id)
    if found is None:
        if person is not None and person.get_username() == username:
            user = person
        else:
            user = user_get_or_create(username=username)
        try:
            with transaction.atomic():
                return AgentSession.objects.create(
                    session_id=session_id, user=user, agent_name=agent_name, temporary=bool(temporary)
                )
        except IntegrityError:  # created by a concurrent run
            session = AgentSession.objects.select_related("user").get(session_id=session_id)
            found = session, session.user.get_username(), session.deleted_at is not None
    session, owner, deleted = found
    if owner != username:
        raise SessionOwnedByAnotherUser(
            f"session_id {session_id!r} belongs to another user; a session is never shared between users"
        )
    if deleted:  # its person deleted it and may undo that: no new turn in it meanwhile
        raise SessionNotFound(f"session {session_id!r} was deleted; start another session")
    if temporary is not None and session.temporary != temporary:
        raise InvalidInput(
            f"session {session_id!r} is a temporary chat: it stays one (leave temporary out, or start "
            "another session)"
            if session.temporary
            else f"session {session_id!r} is not a temporary chat, and a chat cannot become one: start "
            "a new session with temporary: true"
        )
    return session


def _session_and_owner(session_id: str) -> tuple[AgentSession, str, bool] | None:
    """The session (the fields a run reads; the others load on access), its owner's username and
    whether its person deleted it: read on every turn, as SQL."""
    User = get_user_model()
    quote = connection.ops.quote_name
    username = quote(User._meta.get_field(User.USERNAME_FIELD).column)  # type: ignore[union-attr, arg-type]
    user_key = quote(User._meta.pk.column)  # type: ignore[arg-type]
    rows = sql.fetch(
        f"SELECT s.id, s.user_id, s.title, s.session_state, s.temporary, s.deleted_at IS NOT NULL, "
        f"u.{username} FROM {sql.table(AgentSession)} s "
        f"JOIN {sql.table(User)} u ON u.{user_key} = s.user_id WHERE s.session_id = %s",
        [session_id],
    )
    if not rows:
        return None
    pk, user_pk, title, state, temporary, deleted, owner = rows[0]
    # What a run reads of its session (its title, its state, its kind) comes in this row: no query
    # each later.
    fields = ["id", "session_id", "user_id", "title", "session_state", "temporary"]
    return (
        AgentSession.from_db(
            connection.alias, fields, [pk, session_id, user_pk, title, sql.json_column(state), temporary]
        ),
        owner,
        deleted,
    )


def session_create(
    *, user: User, title: str = "", agent_name: str = "", temporary: bool = False
) -> AgentSession:
    return AgentSession.objects.create(
        user=user, title=_check_title(title), agent_name=agent_name, temporary=temporary
    )


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


def session_soft_delete(*, session: AgentSession, by: User | None = None) -> bool:
    """Delete the chat in a way its person can undo (`session_restore`): it is hidden at once and
    its unfinished runs are stopped, as a delete stops them; the sweep deletes it for good
    (`sessions_purge_deleted`) AGENT_CHAT_UNDO_SECONDS later. False when it was deleted already.

    Its `updated_at` is left as it was, so an undo puts it back in its place in the list.
    """
    now = timezone.now()
    if not AgentSession.objects.filter(pk=session.pk, deleted_at__isnull=True).update(deleted_at=now):
        return False
    session.deleted_at = now
    unfinished = Run.objects.filter(session=session, status__in=(Run.Status.PENDING, Run.Status.RUNNING))
    for run in unfinished:
        run_cancel(run=run)
    if by is not None and by.pk != session.user_id:
        audit.warning(
            "%s deleted session %s of user #%s (undoable)",
            by.get_username(),
            session.session_id,
            session.user_id,
        )
    return True


def session_restore(*, session: AgentSession) -> bool:
    """Undo `session_soft_delete`: the chat is back as it was, its title, runs and messages, in its
    place in the list. False when it was not deleted."""
    restored = AgentSession.objects.filter(pk=session.pk, deleted_at__isnull=False).update(deleted_at=None)
    session.deleted_at = None
    return restored == 1


def session_title_set_if_empty(*, session_id: str, title: str) -> bool:
    """Set an automatic title unless the session has one (a person's rename always wins); a
    temporary chat gets none."""
    title = _check_title(title[:400])[:200]
    if not title:
        return False
    untitled = AgentSession.objects.filter(session_id=session_id, title="", temporary=False)
    return untitled.update(title=title) == 1


MAX_SESSION_STATE_BYTES = 64 * 1024
MAX_SESSION_STATE_DEPTH = 64


def _depth(value: Any) -> int:
    """How deeply objects and lists nest in `value` (counted without recursion, however deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_SESSION_STATE_DEPTH:
                stack.extend(
                    (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
                )
    return deepest


def clean_session_state(state: Any) -> dict[str, Any]:
    """A session state as stored: a JSON object of at most MAX_SESSION_STATE_BYTES, nested at most
    MAX_SESSION_STATE_DEPTH deep, its text valid Unicode."""
    if not isinstance(state, dict):
        raise InvalidInput("session_state must be a JSON object")
    if _depth(state) > MAX_SESSION_STATE_DEPTH:
        raise InvalidInput(f"session_state nests objects and lists more than {MAX_SESSION_STATE_DEPTH} deep")
    try:
        encoded = json.dumps(state, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"session_state must hold only JSON values ({exc})") from exc
    try:
        size = len(encoded.encode())
    except UnicodeEncodeError as exc:
        raise InvalidInput("session_state holds text that is not valid Unicode (a lone surrogate)") from exc
    if size > MAX_SESSION_STATE_BYTES:
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
    temporary: bool = False,
    remember: bool = True,
) -> Run:
    """A new session with its first (pending) run, all or nothing: a refused message leaves no empty chat.
    `temporary`: a temporary chat (see AgentSession.temporary), made so now or never. `remember`
    False: nothing is to be learned from its first message ("don't remember this")."""
    with transaction.atomic():
        session = session_create(user=user, agent_name=agent_name, temporary=temporary)
        return run_create(
            session=session,
            input=message,
            model_id=model_id,
            model_provider=model_provider,
            status=Run.Status.PENDING,
            remember=remember,
        )
