"""A session branched into a new one (Agno's `fork_session`): its settled runs, their messages and the
thread's summary copied under a new session id and new run ids, for the same person; the source is
untouched and the two go their own ways from there."""

from __future__ import annotations

from django.db import transaction

from ..models import AgentSession, Message, Run, SessionSummary, new_run_id


@transaction.atomic
def session_fork(*, source: AgentSession, session_id: str) -> AgentSession:
    """The copy of `source` as `session_id`, for the same person."""
    fork = AgentSession.objects.create(
        session_id=session_id,
        user_id=source.user_id,
        agent_name=source.agent_name,
        title=source.title,
        session_state=source.session_state,
    )
    # Not the runs a process is working on (or will): the fork would hold a run no one ends.
    runs = list(source.runs.filter(status__in=Run.TERMINAL).order_by("id"))
    made = {run.pk: run.created_at for run in runs}  # bulk_create stamps "now" (auto_now_add)
    copies: dict[int, Run] = {}
    for run in runs:
        old_pk = run.pk
        run.pk, run.run_id, run.session = None, new_run_id(), fork
        run.parent = copies.get(run.parent_id) if run.parent_id else None
        copies[old_pk] = run
    Run.objects.bulk_create(copies.values())
    for old_pk, copy in copies.items():
        copy.created_at = made[old_pk]
    Run.objects.bulk_update(copies.values(), ["created_at"])
    messages = list(Message.objects.filter(run_id__in=copies).order_by("id"))
    for message in messages:
        message.pk, message.run, message.session = None, copies[message.run_id], fork
    Message.objects.bulk_create(messages)
    summary = SessionSummary.objects.filter(session=source).first()
    if summary is not None:
        last_run = copies.get(summary.last_run_id) if summary.last_run_id else None
        summary.pk, summary.session, summary.last_run = None, fork, last_run
        summary.save()
    return fork
