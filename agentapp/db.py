"""DjangoDb: the `db=` object. A thin face over the apps' services and selectors.

It turns ORM rows into the agent's plain records and back, so the agent
never touches a model class. Writes go through `services.py` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from agentapp.agent.records import (
    ContextData,
    EventRecord,
    RunHandle,
    SessionRecord,
    SessionSummaryRecord,
    UserMemory,
)
from agentapp.agent.summary import MAX_TURN_CHARS, SummaryInputs, SummaryTurn
from agentapp.errors import RunNotFound, SessionOwnedByAnotherUser
from agentapp.llm.types import Message, ToolCall, Usage
from memory_app import selectors as memory_selectors
from memory_app import services as memory_services
from memory_app.models import Memory
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app import summaries as summary_services
from sessions_app.models import AgentSession, Run, SessionSummary


def _memory_record(memory: Memory, username: str) -> UserMemory:
    return UserMemory(
        memory_id=memory.memory_id,
        memory=memory.text,
        topics=list(memory.topics),
        user_id=username,
        created_at=memory.created_at,
        updated_at=memory.updated_at,
        source_run_id=None,
    )


def connection_give_back() -> None:
    """Return this thread's connection to the pool, so that a stream waiting (on the model) holds none.

    Django gives a request's connection back only when the response ends: a streamed reply would
    hold one per stream, and a few dozen streams would exhaust the pool. Without a pool (DB_POOL=0)
    a reconnect costs more than holding on, and inside a transaction it must stay.
    """
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()


_MESSAGE_FIELDS = ("role", "content", "tool_calls", "tool_call_id")


def _message(row: dict[str, Any]) -> Message:
    calls = tuple(ToolCall(c["id"], c["name"], c.get("arguments", "")) for c in row["tool_calls"] or ())
    return Message(
        role=row["role"], content=row["content"], tool_calls=calls, tool_call_id=row["tool_call_id"] or None
    )


def _summary_record(summary: SessionSummary, session_id: str) -> SessionSummaryRecord:
    return SessionSummaryRecord(
        session_id=session_id,
        summary=summary.text,
        topics=list(summary.topics),
        last_run_id=summary.last_run.run_id if summary.last_run else None,
        updated_at=summary.updated_at,
    )


def _handle(run: Run, session: AgentSession, username: str) -> RunHandle:
    return RunHandle(
        run_id=run.run_id,
        session_id=session.session_id,
        user_id=username,
        input=run.input,
        keys={"run": run.pk, "session": session.pk, "user": session.user_id},
    )


class DjangoDb:
    """Storage on the Django database (`using` the "default" alias).

    `background_tasks`: hand automatic memory and summary updates to Celery
    (enqueued on commit); None reads settings.AGENT_BACKGROUND_TASKS.
    """

    def __init__(self, *, background_tasks: bool | None = None) -> None:
        self.background_tasks = background_tasks

    def _use_workers(self) -> bool:
        if self.background_tasks is not None:
            return self.background_tasks
        return settings.AGENT_BACKGROUND_TASKS == "celery"

    # --- a run ---------------------------------------------------------------------
    def run_begin(
        self,
        *,
        user_id: str,
        session_id: str | None,
        agent_name: str,
        message: str,
        model_id: str,
        model_provider: str,
    ) -> RunHandle:
        session = session_services.session_get_or_create_for_run(
            session_id=session_id or "", username=user_id, agent_name=agent_name
        )
        run = session_services.run_create(
            session=session, input=message, model_id=model_id, model_provider=model_provider
        )
        return _handle(run, session, user_id)

    def run_claim(self, *, run_id: str, model_id: str, model_provider: str) -> RunHandle | None:
        run = session_services.run_claim(run_id=run_id, model_id=model_id, model_provider=model_provider)
        if run is None:
            return None
        return _handle(run, run.session, run.user.get_username())

    def context_load(
        self,
        *,
        run: RunHandle,
        num_history_runs: int | None,
        num_history_messages: int | None,
        with_memories: bool,
        memory_limit: int,
        with_summary: bool,
    ) -> ContextData:
        history: list[Message] = []
        if num_history_messages or num_history_runs is None or num_history_runs > 0:
            rows = session_selectors.history_messages(
                session_pk=run.keys["session"],
                num_runs=num_history_runs,
                num_messages=num_history_messages,
                exclude_run_pk=run.keys["run"],
            )
            history = [_message(row) for row in rows]
        memories: list[UserMemory] = []
        if with_memories and memory_limit > 0:
            rows = memory_selectors.memories_for_context(user_pk=run.keys["user"], limit=memory_limit)
            memories = [
                UserMemory(
                    memory_id=m["memory_id"], memory=m["text"], topics=m["topics"], user_id=run.user_id
                )
                for m in rows
            ]
        summary = None
        if with_summary:
            found = session_selectors.summary_for_context(session_pk=run.keys["session"])
            if found is not None:
                summary = SessionSummaryRecord(
                    session_id=run.session_id, summary=found["text"], topics=found["topics"], last_run_id=None
                )
        return ContextData(history=history, memories=memories, summary=summary)

    def idle(self) -> None:
        connection_give_back()

    def run_events_record(self, *, run: RunHandle, events: Sequence[EventRecord]) -> None:
        session_services.run_events_add(run_pk=run.keys["run"], events=[vars(event) for event in events])

    def run_finish(
        self,
        *,
        run: RunHandle,
        status: str,
        content: str,
        messages: Sequence[Message],
        usage: Usage,
        started_at: datetime,
        first_token_at: datetime | None,
        error: str = "",
        memories_used: Sequence[str] = (),
        events: Sequence[EventRecord] = (),
    ) -> None:
        session_services.run_finish(
            run_pk=run.keys["run"],
            session_pk=run.keys["session"],
            status=status,
            content=content,
            messages=[m.to_dict() for m in messages],
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            total_tokens=usage.total_tokens,
            started_at=started_at,
            first_token_at=first_token_at,
            error=error,
            memories_used=memories_used,
            events=[vars(event) for event in events],
        )

    def run_user_messages(self, *, run: RunHandle) -> list[str]:
        return [run.input]

    def run_handle(self, *, run_id: str) -> RunHandle:
        run = Run.objects.select_related("session", "user").filter(run_id=run_id).first()
        if run is None:
            raise RunNotFound(f"run {run_id!r} not found")
        return _handle(run, run.session, run.user.get_username())

    def followups_schedule(self, *, run: RunHandle, jobs: Sequence[str]) -> set[str]:
        if not self._use_workers():
            return set()
        from memory_app.tasks import memory_update_for_run
        from sessions_app.tasks import enqueue, session_summary_update

        tasks = {"memory": memory_update_for_run, "summary": session_summary_update}
        # The summary task folds whatever the session has not summarised yet, so it takes the session.
        arguments = {"summary": run.session_id}
        taken = set()
        for job in jobs:
            if job in tasks:
                # A broker that is down is logged, not raised: the reply is already stored.
                enqueue(tasks[job], arguments.get(job, run.run_id), on_commit=True)
                taken.add(job)
        return taken

    def connection_reset(self) -> None:
        """Drop a failed database connection (the server ended it); the next query opens a new one."""
        connection.close()

    # --- session summaries ------------------------------------------------------------
    def summary_inputs(self, *, session_id: str, max_runs: int) -> SummaryInputs | None:
        session = session_selectors.session_get(session_id=session_id)
        if session is None:
            return None
        row = session_selectors.session_summary_get(session_pk=session.pk)
        runs = session_selectors.summary_runs_pending(
            session_pk=session.pk,
            after_run_pk=row.last_run_id if row else None,
            limit=max_runs + 1,
            max_chars=MAX_TURN_CHARS,
        )
        username = session.user.get_username()
        turns = [
            SummaryTurn(
                run=RunHandle(
                    run_id=run.run_id,
                    session_id=session_id,
                    user_id=username,
                    input=run.input_head,
                    keys={"run": run.pk, "session": session.pk, "user": session.user_id},
                ),
                input=run.input_head,
                content=run.content_head,
            )
            for run in runs[:max_runs]
        ]
        record = _summary_record(row, session_id) if row else None
        return SummaryInputs(summary=record, turns=turns, more=len(runs) > max_runs)

    def summary_save(
        self,
        *,
        session_id: str,
        summary: str,
        topics: Sequence[str],
        last_run_id: str,
        expected_last_run_id: str | None,
    ) -> bool:
        wanted = [i for i in (last_run_id, expected_last_run_id) if i]
        rows = Run.objects.filter(session__session_id=session_id, run_id__in=wanted)
        keys = {
            run_id: (pk, session_pk) for run_id, pk, session_pk in rows.values_list("run_id", "pk", "session")
        }
        if last_run_id not in keys or (expected_last_run_id and expected_last_run_id not in keys):
            return False  # the session or its runs were deleted meanwhile
        last_pk, session_pk = keys[last_run_id]
        return summary_services.session_summary_save(
            session_pk=session_pk,
            text=summary,
            topics=topics,
            last_run_pk=last_pk,
            expected_last_run_pk=keys[expected_last_run_id][0] if expected_last_run_id else None,
        )

    # --- memory tools (always scoped to the run's user) ----------------------------
    def memory_add(
        self, *, run: RunHandle, memory: str, topics: Sequence[str], actor: str
    ) -> tuple[UserMemory, bool]:
        row, created = memory_services.memory_create(
            user_pk=run.keys["user"], text=memory, topics=topics, actor=actor, run_pk=run.keys["run"]
        )
        return _memory_record(row, run.user_id), created

    def memory_update(
        self, *, run: RunHandle, memory_id: str, memory: str | None, topics: Sequence[str] | None, actor: str
    ) -> UserMemory:
        row = memory_selectors.memory_get_for_user(memory_id=memory_id, user_pk=run.keys["user"])
        row = memory_services.memory_update(
            memory=row, text=memory, topics=topics, actor=actor, run_pk=run.keys["run"]
        )
        return _memory_record(row, run.user_id)

    def memory_delete(self, *, run: RunHandle, memory_id: str, actor: str) -> UserMemory:
        row = memory_selectors.memory_get_for_user(memory_id=memory_id, user_pk=run.keys["user"])
        row = memory_services.memory_delete(memory=row, actor=actor, run_pk=run.keys["run"])
        return _memory_record(row, run.user_id)

    # --- reading -------------------------------------------------------------------
    def user_memories(self, *, user_id: str, limit: int | None = None) -> list[UserMemory]:
        user = get_user_model().objects.filter(username=user_id).first()
        if user is None:
            return []
        memories = memory_selectors.memories_active(user_pk=user.pk)
        if limit is not None:
            memories = memories[: max(0, limit)]
        return [_memory_record(m, user_id) for m in memories]

    def _session(self, session_id: str, user_id: str | None) -> AgentSession | None:
        session = session_selectors.session_get(session_id=session_id)
        if session is None:
            return None
        if user_id is not None and session.user.get_username() != user_id:
            raise SessionOwnedByAnotherUser(f"session_id {session_id!r} belongs to another user")
        return session

    def session_get(self, *, session_id: str, user_id: str | None = None) -> SessionRecord | None:
        session = self._session(session_id, user_id)
        if session is None:
            return None
        return SessionRecord(
            session_id=session.session_id,
            user_id=session.user.get_username(),
            agent_name=session.agent_name,
            title=session.title,
            session_state=dict(session.session_state),
            created_at=session.created_at,
            updated_at=session.updated_at,
        )

    def chat_history(self, *, session_id: str, user_id: str | None = None) -> list[Message]:
        session = self._session(session_id, user_id)
        if session is None:
            return []
        rows = session_selectors.session_messages(session=session).values(*_MESSAGE_FIELDS)
        return [_message(row) for row in rows]

    def session_summary_get(
        self, *, session_id: str, user_id: str | None = None
    ) -> SessionSummaryRecord | None:
        session = self._session(session_id, user_id)
        if session is None:
            return None
        row = session_selectors.session_summary_get(session_pk=session.pk)
        return _summary_record(row, session_id) if row else None
