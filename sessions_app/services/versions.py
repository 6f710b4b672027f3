"""Versions of a turn: a message edited, an answer regenerated, another version shown."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection

from agentapp.errors import Conflict
from agentapp.platform import sql

from ..models import Run
from .runs import _check_message, run_cancel, run_create


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
    remember: bool = True,
) -> Run:
    """A new pending version of `run`'s turn with the message `input`, as `run_regenerate`. A run
    still being answered is refused, or with `stop_unfinished` stopped first (the chat's edit).
    A version of a turn the person asked not to be remembered (or forgot) is not remembered either;
    `remember` False asks so for this one."""
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
        remember=remember and run.remember,
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
