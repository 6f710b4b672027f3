"""DjangoDb: the `db=` object on the Django database. Storage verbs only, through the apps' services
(every write) and selectors (every read that crosses relations).

It turns ORM rows into the agent's plain records and back, so the agent never touches a model class.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

from agentapp.agent.memory.own_name import for_person
from agentapp.agent.memory.query_embedding import QueryVector
from agentapp.agent.memory.recall import (
    NEAR_DUPLICATE_SIMILARITY,
    NO_RECALL,
    Recall,
    RecallQuery,
    recall_memories,
)
from agentapp.agent.memory.storage import ProposedChange
from agentapp.agent.memory.verbs import MemoryVerbs
from agentapp.agent.records import (
    ContextData,
    EventRecord,
    Message,
    PausedRun,
    RunHandle,
    SessionSummaryRecord,
    Usage,
    UserMemory,
)
from agentapp.agent.session.ids import taken_run_id
from agentapp.errors import Conflict, InvalidInput, MemoryNotFound, RunIdTaken, StorageUnavailable
from agentapp.platform.database import connection_give_back, pgvector_state
from memory_app import selectors as memory_selectors
from memory_app import services as memory_services
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.models import AgentSession, Run

from .candidates import memory_candidates, newest_memories
from .off_loop import sync_verbs_off_the_loop
from .records import (
    DjangoRunHandle,
    keys_of,
    memory_record,
    message_of,
    run_handle_of,
)
from .session_verbs import SessionVerbs
from .sessions import SessionStorage

logger = logging.getLogger(__name__)
T = TypeVar("T")


def meaning_search_available() -> bool:
    """Whether this database can rank by meaning (pgvector created in it); asked once per process."""
    global _meaning_available
    if _meaning_available is None:
        _meaning_available = pgvector_state() == "enabled"
        memory_selectors.stored_vectors()  # asked now too, so no later turn pays a statement for it
    return _meaning_available


def forget_meaning_search_state() -> None:
    """After pgvector is created or dropped in this process (tests, an operator's shell)."""
    global _meaning_available
    _meaning_available = None
    memory_selectors.forget_stored_vectors()


_meaning_available: bool | None = None


def _unavailable(exc: Exception) -> StorageUnavailable:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StorageUnavailable(f"the database did not answer ({first})")


def _waiting_for_the_database(write: Callable[[], T], *, patience: float | None = None) -> T:
    """A write, tried again on a new connection while the database is away (a restart, a failover),
    with a growing pause between tries, for up to `patience` seconds (AGENT_DB_RETRY_SECONDS);
    then StorageUnavailable. Only outside a transaction, where a failed try left nothing behind.
    """
    deadline = time.monotonic() + (settings.AGENT_DB_RETRY_SECONDS if patience is None else patience)
    pause = 0.2
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block:
                raise
            connection.close()
            if time.monotonic() + pause > deadline:
                raise _unavailable(exc) from exc
            logger.warning("the database did not answer; trying again in %.1fs: %s", pause, exc)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def _handle(run: Run, session: AgentSession, username: str) -> DjangoRunHandle:
    """The run's handle, with the person's settings as they are now (one statement)."""
    return run_handle_of(run, session, username, session_selectors.person_settings(user_pk=session.user_id))


@sync_verbs_off_the_loop
class DjangoDb(MemoryVerbs, SessionVerbs, SessionStorage):
    """Storage on the Django database (the "default" alias). Its sync verbs may be called from async
    code, as Agno's storages' may (`off_loop.py`).

    `acting_user`: the account that starts runs when it is not the runs' owner (a service key
    speaking for its people), recorded on each run it begins. `person`: whom its runs are for, when
    the caller already looked them up (a request's), so beginning a run need not look again.
    """

    def __init__(self, *, acting_user: User | None = None, person: User | None = None) -> None:
        self.acting_user = acting_user
        self.person = person

    # --- a run ---------------------------------------------------------------------------
    def run_begin(
        self,
        *,
        user_id: str,
        session_id: str,
        agent_name: str,
        message: str,
        model_id: str,
        model_provider: str,
        run_id: str | None = None,
    ) -> RunHandle:
        try:
            with transaction.atomic():  # a refused message leaves no new person or session behind
                session = session_services.session_get_or_create_for_run(
                    session_id=session_id, username=user_id, agent_name=agent_name, person=self.person
                )
                run = session_services.run_create(
                    session=session,
                    input=message,
                    model_id=model_id,
                    model_provider=model_provider,
                    acting_user=self.acting_user,
                    run_id=run_id,
                )
        except IntegrityError:
            if run_id is not None and Run.objects.filter(run_id=run_id).exists():  # taken meanwhile
                raise RunIdTaken(taken_run_id(run_id)) from None
            raise
        return run_handle_of(
            run, session, user_id, session_selectors.person_settings(user_pk=session.user_id)
        )

    def run_input_set(self, *, run: RunHandle, input: str) -> None:
        session_services.run_input_replace(run_id=run.run_id, input=input)

    def run_claim(self, *, run_id: str, model_id: str, model_provider: str) -> RunHandle | None:
        run = session_services.run_claim(run_id=run_id, model_id=model_id, model_provider=model_provider)
        if run is None:
            return None
        return run_handle_of(
            run, run.session, run.user.get_username(), session_selectors.person_settings(user_pk=run.user_id)
        )

    def context_load(
        self,
        *,
        run: RunHandle,
        num_history_runs: int | None,
        num_history_messages: int | None,
        memories: RecallQuery | None,
        with_summary: bool,
    ) -> ContextData:
        keys = keys_of(run)
        history: list[Message] = []
        if num_history_messages or num_history_runs is None or num_history_runs > 0:
            rows = session_selectors.history_messages(
                run_pk=keys.run_pk, num_runs=num_history_runs, num_messages=num_history_messages
            )
            history = [message_of(row) for row in rows]
        recall = NO_RECALL
        if memories is not None and memories.limit > 0:
            recall = self._recall(keys.user_pk, run.user_id, memories)
        summary = None
        if with_summary:
            found = session_selectors.summary_for_context(session_pk=keys.session_pk, run_pk=keys.run_pk)
            if found is not None:
                summary = SessionSummaryRecord(
                    session_id=run.session_id, summary=found["text"], topics=found["topics"], last_run_id=None
                )
        return ContextData(history=history, memories=recall.memories, summary=summary, recall=recall)

    def _recall(self, user_pk: int, username: str, query: RecallQuery) -> Recall:
        """All the person's memories when they fit the budget (one statement, no embedding); else
        the candidates by every signal (one more statement), ranked."""
        return recall_memories(
            dataclasses.replace(query, embed=for_person(query.embed, username)),
            newest=newest_memories(user_pk=user_pk, username=username, include_past=query.include_past),
            candidates=memory_candidates(
                user_pk=user_pk, username=username, text=query.text, include_past=query.include_past
            ),
            meaning_available=meaning_search_available(),
        )

    def memories_recall(self, *, run: RunHandle, query: RecallQuery) -> Recall:
        keys = keys_of(run)
        return self._recall(keys.user_pk, run.user_id, query) if query.limit > 0 else NO_RECALL

    async def acontext_load(self, **arguments: Any) -> ContextData:
        """For async runs, which then wait on the model for seconds: the pooled connection goes back
        to the pool meanwhile (the next write takes one again)."""

        def load() -> ContextData:
            try:
                return self.context_load(**arguments)
            finally:
                connection_give_back()

        return await sync_to_async(load)()

    def run_events_record(self, *, run: RunHandle, events: Sequence[EventRecord]) -> None:
        """Written at once or not at all: a run's buffered entries wait for its end when the database
        is away (the end waits for the database), so a tool's run is not held up meanwhile."""
        run_pk = keys_of(run).run_pk
        if not run_pk:  # a memory scope outside any run: no timeline to write to
            return
        rows = [vars(event) for event in events]
        try:
            session_services.run_events_add(run_pk=run_pk, events=rows)
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block:
                raise
            connection.close()
            raise _unavailable(exc) from exc

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
        keys = keys_of(run)

        def finish() -> None:
            session_services.run_finish(
                run_pk=keys.run_pk,
                session_pk=keys.session_pk,
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
                first_position=keys.next_position,
            )

        _waiting_for_the_database(finish)

    def run_handle(self, *, run_id: str) -> RunHandle:
        run = session_selectors.run_get(run_id=run_id)
        return run_handle_of(
            run, run.session, run.user.get_username(), session_selectors.person_settings(user_pk=run.user_id)
        )

    def run_resume(self, *, run_id: str, user_id: str | None, session_id: str | None = None) -> PausedRun:
        run, rows, next_position = session_services.run_resume(
            run_id=run_id, username=user_id, session_id=session_id
        )
        handle = run_handle_of(
            run, run.session, run.user.get_username(), session_selectors.person_settings(user_pk=run.user_id)
        )
        usage = Usage(run.input_tokens, run.output_tokens, run.total_tokens)
        messages = [message_of(row) for row in rows]
        return PausedRun(dataclasses.replace(handle, next_position=next_position), messages, usage)

    def run_user_messages(self, *, run: RunHandle) -> list[str]:
        return [run.input]

    # --- memory tools (always scoped to the run's user) ----------------------------
    def memory_scope(self, *, user_id: str) -> RunHandle:
        """A handle for writing `user_id`'s memories outside any run (the person is created when
        new): the audit trail records no run, and timeline entries have nowhere to go."""
        user = session_services.user_get_or_create(username=user_id)
        return DjangoRunHandle(
            run_id="", session_id="", user_id=user.get_username(), input="", user_pk=user.pk
        )

    def memory_add(
        self,
        *,
        run: RunHandle,
        memory: str,
        topics: Sequence[str],
        actor: str,
        embedding: QueryVector | None = None,
        input: str | None = None,
        agent_id: str | None = None,
    ) -> tuple[UserMemory, bool]:
        keys = keys_of(run)
        vector = embedding.vector if embedding is not None and meaning_search_available() else None
        if vector is not None and embedding is not None:
            nearest = memory_selectors.memory_nearest(
                user_pk=keys.user_pk, vector=vector, model=embedding.model
            )
            if nearest is not None and nearest[1] >= NEAR_DUPLICATE_SIMILARITY:
                found = memory_selectors.memory_get_for_user(memory_id=nearest[0], user_pk=keys.user_pk)
                return memory_record(found, run.user_id), False
        row, created = memory_services.memory_create(
            user_pk=keys.user_pk,
            text=memory,
            topics=topics,
            actor=actor,
            run_pk=keys.run_pk or None,
            run_began_at=keys.began_at,
            input=input,
            agent_id=agent_id,
        )
        if created and vector is not None and embedding is not None:
            # The text was embedded to compare it: keep that vector rather than make it again.
            memory_services.memory_embeddings_save(
                model=embedding.model, vectors={row.pk: vector}, texts={row.pk: row.text}
            )
        return memory_record(
            row, run.user_id, source_run_id=(run.run_id or None) if created else None
        ), created

    def memory_update(
        self, *, run: RunHandle, memory_id: str, memory: str | None, topics: Sequence[str] | None, actor: str
    ) -> UserMemory:
        keys = keys_of(run)
        row = memory_selectors.memory_get_for_user(memory_id=memory_id, user_pk=keys.user_pk)
        row = memory_services.memory_update(
            memory=row, text=memory, topics=topics, actor=actor, run_pk=keys.run_pk or None
        )
        return memory_record(row, run.user_id)

    def memory_delete(self, *, run: RunHandle, memory_id: str, actor: str) -> UserMemory:
        keys = keys_of(run)
        row = memory_selectors.memory_get_for_user(memory_id=memory_id, user_pk=keys.user_pk)
        row = memory_services.memory_delete(memory=row, actor=actor, run_pk=keys.run_pk or None)
        return memory_record(row, run.user_id)

    def memory_propose(
        self,
        *,
        run: RunHandle,
        memory: str,
        topics: Sequence[str],
        actor: str,
        change: ProposedChange = "create",
        target: str | None = None,
    ) -> UserMemory:
        keys = keys_of(run)
        target_row = (
            memory_selectors.memory_get_for_user(memory_id=target, user_pk=keys.user_pk) if target else None
        )
        proposal = memory_services.proposal_create(
            user_pk=keys.user_pk,
            text=memory,
            topics=topics,
            actor=actor,
            change=change,
            target=target_row,
            run_pk=keys.run_pk or None,
            run_began_at=keys.began_at,
        )
        return UserMemory(
            memory=proposal.text,
            memory_id=proposal.proposal_id,
            topics=list(proposal.topics),
            user_id=run.user_id,
            created_at=proposal.created_at,
            source_run_id=run.run_id or None,
        )

    def memory_supersede(
        self,
        *,
        run: RunHandle,
        memory_id: str,
        memory: str,
        topics: Sequence[str] | None,
        actor: str,
        valid_from: datetime | None = None,
    ) -> UserMemory:
        keys = keys_of(run)
        row = memory_selectors.memory_get_for_user(memory_id=memory_id, user_pk=keys.user_pk)
        try:
            new = memory_services.memory_supersede(
                memory=row,
                text=memory,
                topics=topics,
                actor=actor,
                run_pk=keys.run_pk or None,
                valid_from=valid_from,
            )
        except Conflict as error:
            raise InvalidInput(error.message) from error
        return memory_record(new, run.user_id, source_run_id=run.run_id or None)

    def memory_expire(
        self, *, run: RunHandle, memory_id: str, actor: str, valid_to: datetime | None = None
    ) -> UserMemory:
        keys = keys_of(run)
        row = memory_selectors.memory_get_for_user(memory_id=memory_id, user_pk=keys.user_pk)
        try:
            row = memory_services.memory_expire(
                memory=row, actor=actor, run_pk=keys.run_pk or None, valid_to=valid_to
            )
        except Conflict as error:
            raise InvalidInput(error.message) from error
        return memory_record(row, run.user_id)

    def user_memories(self, *, user_id: str, limit: int | None = None) -> list[UserMemory]:
        memories = memory_selectors.memories_for_username(username=user_id, limit=limit)
        return [memory_record(m, user_id) for m in memories]

    # --- the reads behind Agno's memory verbs (agent.memory_store) ------------------------
    def memories_page(
        self,
        *,
        user_id: str | None,
        topics: Sequence[str] = (),
        search: str = "",
        sort_by: str | None = None,
        sort_order: str = "asc",
        limit: int | None = None,
        offset: int = 0,
        as_of: datetime | None = None,
        include_superseded: bool = False,
    ) -> list[UserMemory]:
        rows = memory_selectors.memories_page(
            username=user_id,
            topics=topics,
            search=search,
            sort_by=sort_by,
            sort_order=sort_order,
            limit=limit,
            offset=offset,
            as_of=as_of,
            include_superseded=include_superseded,
        )
        return [memory_record(row, row.user.get_username()) for row in rows]

    def memory_topics_all(self, *, user_id: str | None = None) -> list[str]:
        return memory_selectors.memory_topics_all(username=user_id)

    def memory_stats(self, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        return memory_selectors.memory_stats_by_user(limit=limit, offset=offset)

    def _find(self, memory_id: str) -> UserMemory | None:
        row = memory_selectors.memory_live_get(memory_id=memory_id)
        return memory_record(row, row.user.get_username()) if row is not None else None

    # --- memory optimisation ------------------------------------------------------------
    def memories_merge(
        self,
        *,
        user_id: str,
        memory_ids: Sequence[str],
        memory: str,
        topics: Sequence[str],
        actor: str,
        source_texts: Sequence[str] | None = None,
    ) -> UserMemory:
        """The merge as one audited change (see memory_app.services.memories_merge), made by
        `acting_user` when there is one (an operator merging for a person)."""
        user_pk = memory_selectors.user_pk_for_username(username=user_id)
        if user_pk is None:
            raise MemoryNotFound(f"memory {memory_ids[0] if memory_ids else ''!r} not found")
        row = memory_services.memories_merge(
            user_pk=user_pk,
            memory_ids=list(memory_ids),
            text=memory,
            topics=list(topics),
            actor=actor,
            actor_user=self.acting_user,
            source_texts=list(source_texts) if source_texts is not None else None,
        )
        return memory_record(row, user_id)
