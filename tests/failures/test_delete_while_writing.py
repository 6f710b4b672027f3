"""A session deleted (or a person's data erased) while follow-up work writes to its runs: no 500,
nothing left behind, and the late writer gives up quietly."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agentapp.accounts.services import user_data_erase
from agentapp.errors import Conflict
from memory_app import services as memory_services
from memory_app.models import Memory, MemoryProposal
from sessions_app import services
from sessions_app.models import AgentSession, Run, RunEvent, SessionSummary
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _event() -> dict:
    now = timezone.now()
    return {"kind": "summary", "name": "late", "started_at": now, "ended_at": now, "payload": {}}


@pytest.fixture
def slow_run_deletes():
    """A run's events take a moment to delete (a trigger of the test's own, after the statement), which
    widens the window in which a follow-up's write lands between that part of a delete and the next."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_slow_delete() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.5); "
            "RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER test_slow_delete AFTER DELETE ON sessions_app_runevent "
            "FOR EACH STATEMENT EXECUTE FUNCTION test_slow_delete()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_slow_delete ON sessions_app_runevent")
        cursor.execute("DROP FUNCTION test_slow_delete()")


def _busy_writer(run_pk: int, stop: threading.Event, errors: list[BaseException]) -> threading.Thread:
    """A worker writing to the run's timeline again and again, as a summary or memory update does."""

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    services.run_events_add(run_pk=run_pk, events=[_event()])
                except BaseException as exc:  # the worker's own failure: logged, never the page's
                    errors.append(exc)
                time.sleep(0.02)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


@pytest.mark.parametrize("how", ["session", "erase"])
def test_deleting_while_a_worker_writes_to_the_session_succeeds_and_leaves_nothing(
    alice, how, slow_run_deletes
):
    """Was: a write landing between the delete's parts failed its commit on a foreign key (a 500)."""
    session = factories.session(alice, "busy")
    run = factories.finished_run(session, "hello", "hi")
    stop, worker_errors = threading.Event(), []
    writer = _busy_writer(run.pk, stop, worker_errors)
    time.sleep(0.1)
    try:
        if how == "session":
            services.session_delete(session=session)
        else:
            user_data_erase(user=alice)
    finally:
        stop.set()
        writer.join(10)

    assert not AgentSession.objects.exists() and not Run.objects.exists() and not RunEvent.objects.exists()
    assert worker_errors == []  # the late writes were dropped quietly, not raised


def test_a_follow_up_that_writes_after_the_session_is_gone_gives_up_quietly(alice):
    session = factories.session(alice, "gone")
    run = factories.finished_run(session, "I like tea", "Noted.")
    run_pk, session_pk, run_id = run.pk, session.pk, run.run_id
    services.session_delete(session=session)

    services.run_events_add(run_pk=run_pk, events=[_event()])  # the run's timeline: dropped
    memory, created = memory_services.memory_create(
        user_pk=alice.pk, text="Likes tea", actor="memory_manager", run_pk=run_pk
    )  # the memory is the person's: kept, without its run
    saved = services.session_summary_save(
        session_id="gone", text="x", topics=[], last_run_id=run_id, expected_last_run_id=None
    )

    assert created and Memory.objects.get().source_run is None
    assert memory.changes.get().run is None
    assert saved is False and not SessionSummary.objects.filter(session_id=session_pk).exists()
    assert not RunEvent.objects.exists()


def test_a_memory_written_for_a_run_the_persons_erase_removed_is_refused(alice):
    session = factories.session(alice, "erased")
    run = factories.finished_run(session, "I like tea", "Noted.")
    run_pk, began = run.pk, run.created_at
    user_data_erase(user=alice)

    with pytest.raises(Conflict, match="erased"):
        memory_services.memory_create(
            user_pk=alice.pk, text="Likes tea", actor="memory_manager", run_pk=run_pk, run_began_at=began
        )
    assert not Memory.objects.exists()
    # What the person says after the erase is theirs again.
    later = factories.finished_run(factories.session(alice, "new"), "I like coffee", "Noted.")
    memory_services.memory_create(
        user_pk=alice.pk,
        text="Likes coffee",
        actor="memory_manager",
        run_pk=later.pk,
        run_began_at=later.created_at,
    )
    assert [m.text for m in Memory.objects.all()] == ["Likes coffee"]


def test_a_memory_proposed_for_a_run_the_persons_erase_removed_is_refused(alice):
    session = factories.session(alice, "erased")
    run = factories.finished_run(session, "I like tea", "Noted.")
    run_pk, began = run.pk, run.created_at
    user_data_erase(user=alice)

    with pytest.raises(Conflict, match="erased"):
        memory_services.proposal_create(
            user_pk=alice.pk, text="Likes tea", actor="memory_manager", run_pk=run_pk, run_began_at=began
        )
    assert not MemoryProposal.objects.exists()


def test_a_memory_proposed_for_a_run_whose_session_is_gone_is_the_persons(alice):
    session = factories.session(alice, "gone")
    run = factories.finished_run(session, "I like tea", "Noted.")
    run_pk, began = run.pk, run.created_at
    services.session_delete(session=session)

    proposal = memory_services.proposal_create(
        user_pk=alice.pk, text="Likes tea", actor="memory_manager", run_pk=run_pk, run_began_at=began
    )
    assert proposal.source_run is None and proposal.state == MemoryProposal.State.PROPOSED


def test_claiming_the_memory_update_of_a_run_whose_chat_is_being_deleted_says_the_run_is_gone(alice):
    """Was: the claim found the run, the deletion committed, and the claim's insert failed its
    foreign key at commit: an IntegrityError in the worker's log."""
    from datetime import timedelta

    from agentapp.errors import RunNotFound

    session = factories.session(alice, "deleted right after")
    run = factories.finished_run(session, "hello", "hi")
    deleting, deleted = threading.Event(), threading.Event()

    def delete_slowly() -> None:
        try:
            with transaction.atomic():
                services.session_delete(session=AgentSession.objects.get(pk=session.pk))
                deleting.set()
                time.sleep(0.5)  # the claim reads the run (not deleted yet for it), then inserts
        finally:
            deleted.set()
            connection.close()

    thread = threading.Thread(target=delete_slowly)
    thread.start()
    deleting.wait(5)
    with pytest.raises(RunNotFound):
        memory_services.memory_extraction_claim(run_id=run.run_id, lease=timedelta(minutes=5))
    thread.join(10)
    assert deleted.is_set() and not Run.objects.exists()
