""" "Don't remember this" and "Forget what was learned from this": a run marked so learns nothing
(through the real model loop), and forgetting a run undoes what it learned, each undo an audited
change, undoable in turn."""

from __future__ import annotations

import pytest

from agentapp.errors import Conflict
from memory_app import services
from memory_app.models import Memory, MemoryChange, MemoryProposal
from sessions_app import services as session_services
from sessions_app.models import Run

pytestmark = pytest.mark.django_db

MODEL = MemoryChange.Actor.MODEL
PERSON = MemoryChange.Actor.PERSON


@pytest.fixture
def run(alice) -> Run:
    session = session_services.session_create(user=alice)
    return session_services.run_create(session=session, input="I moved to Berlin and joined Globex")


def _current(user) -> set[str]:
    return set(Memory.objects.current().filter(user=user).values_list("text", flat=True))


def test_forgetting_a_run_deletes_what_it_created_each_an_audited_undo(alice, run):
    learned, _ = services.memory_create(user_pk=alice.pk, text="Lives in Berlin", actor=MODEL, run_pk=run.pk)
    services.memory_create(user_pk=alice.pk, text="Likes tea", actor=PERSON)

    done = services.run_forget(run=run, actor=PERSON, actor_user=alice)

    assert (done.memories, done.proposals) == (1, 0)
    assert _current(alice) == {"Likes tea"}
    learned.refresh_from_db()
    assert learned.deleted_at is not None  # soft: it can come back
    undo = MemoryChange.objects.get(memory=learned, action=MemoryChange.Action.DELETE)
    assert (undo.actor, undo.actor_user, undo.run) == (PERSON, alice, None)
    assert undo.reverts.action == MemoryChange.Action.CREATE and undo.reverts.run_id == run.pk
    run.refresh_from_db()
    assert run.remember is False


def test_a_fact_the_run_replaced_is_current_again_and_a_correction_is_undone(alice, run):
    paris, _ = services.memory_create(user_pk=alice.pk, text="Lives in Paris", actor=PERSON)
    acme, _ = services.memory_create(user_pk=alice.pk, text="Works at ACME", actor=PERSON)
    services.memory_supersede(memory=paris, text="Lives in Berlin", actor=MODEL, run_pk=run.pk)
    services.memory_update(memory=acme, text="Works at Globex", actor=MODEL, run_pk=run.pk)

    done = services.run_forget(run=run, actor=PERSON, actor_user=alice)

    assert _current(alice) == {"Lives in Paris", "Works at ACME"}
    paris.refresh_from_db()
    assert paris.superseded_by is None and paris.valid_to is None
    assert Memory.objects.get(text="Lives in Berlin").deleted_at is not None
    assert done.memories == 2  # the replacement deleted, the correction put back


def test_what_the_run_forgot_stays_forgotten(alice, run):
    dog, _ = services.memory_create(user_pk=alice.pk, text="Has a dog", actor=PERSON)
    student, _ = services.memory_create(user_pk=alice.pk, text="Is a student", actor=PERSON)
    services.memory_delete(memory=dog, actor=MODEL, run_pk=run.pk)
    services.memory_expire(memory=student, actor=MODEL, run_pk=run.pk)

    done = services.run_forget(run=run, actor=PERSON, actor_user=alice)

    assert done.memories == 0 and _current(alice) == set()
    assert not MemoryChange.objects.filter(reverts__isnull=False).exists()


def test_its_proposals_still_waiting_are_discarded(alice, run):
    waiting = services.proposal_create(user_pk=alice.pk, text="Joined Globex", actor=MODEL, run_pk=run.pk)

    done = services.run_forget(run=run, actor=PERSON, actor_user=alice)

    waiting.refresh_from_db()
    assert done.proposals == 1 and waiting.state == MemoryProposal.State.DISCARDED
    decision = MemoryChange.objects.get(proposal=waiting)
    assert (decision.action, decision.actor_user) == (MemoryChange.Action.DISCARD, alice)


def test_a_kept_proposal_of_the_run_is_forgotten_too(alice, run):
    """Kept by the person, the memory is still what the run learned."""
    waiting = services.proposal_create(user_pk=alice.pk, text="Joined Globex", actor=MODEL, run_pk=run.pk)
    services.proposal_keep(proposal=waiting, actor_user=alice)

    services.run_forget(run=run, actor=PERSON, actor_user=alice)

    assert _current(alice) == set()


def test_a_correction_changed_since_is_left_as_the_person_made_it(alice, run):
    acme, _ = services.memory_create(user_pk=alice.pk, text="Works at ACME", actor=PERSON)
    services.memory_update(memory=acme, text="Works at Globex", actor=MODEL, run_pk=run.pk)
    services.memory_update(memory=acme, text="Works at Globex in Berlin", actor=PERSON)

    done = services.run_forget(run=run, actor=PERSON, actor_user=alice)

    assert done.memories == 0 and _current(alice) == {"Works at Globex in Berlin"}


def test_once_forgotten_no_memory_can_be_written_for_the_run(alice, run):
    acme, _ = services.memory_create(user_pk=alice.pk, text="Works at ACME", actor=PERSON)
    services.run_forget(run=run, actor=PERSON, actor_user=alice)

    with pytest.raises(Conflict):
        services.memory_create(user_pk=alice.pk, text="Lives in Berlin", actor=MODEL, run_pk=run.pk)
    with pytest.raises(Conflict):
        services.memory_update(memory=acme, text="Works at Globex", actor=MODEL, run_pk=run.pk)
    with pytest.raises(Conflict):
        services.memory_supersede(memory=acme, text="Works at Globex", actor=MODEL, run_pk=run.pk)
    with pytest.raises(Conflict):
        services.proposal_create(user_pk=alice.pk, text="Joined Globex", actor=MODEL, run_pk=run.pk)
    assert _current(alice) == {"Works at ACME"} and not MemoryProposal.objects.exists()


def test_undoing_a_forget_brings_back_what_it_undid_and_remembers_the_run_again(alice, run):
    paris, _ = services.memory_create(user_pk=alice.pk, text="Lives in Paris", actor=PERSON)
    acme, _ = services.memory_create(user_pk=alice.pk, text="Works at ACME", actor=PERSON)
    services.memory_supersede(memory=paris, text="Lives in Berlin", actor=MODEL, run_pk=run.pk)
    services.memory_update(memory=acme, text="Works at Globex", actor=MODEL, run_pk=run.pk)
    services.memory_create(user_pk=alice.pk, text="Has a cat", actor=MODEL, run_pk=run.pk)
    learned = _current(alice)
    services.run_forget(run=run, actor=PERSON, actor_user=alice)

    done = services.run_unforget(run=run, actor=PERSON, actor_user=alice)

    assert _current(alice) == learned == {"Lives in Berlin", "Works at Globex", "Has a cat"}
    paris.refresh_from_db()
    assert paris.superseded_by.text == "Lives in Berlin"  # replaced again, by the same memory
    assert done.memories == 3
    run.refresh_from_db()
    assert run.remember is True
    redone = MemoryChange.objects.filter(reverts__reverts__run_id=run.pk)
    assert redone.count() == 4 and {c.actor_user for c in redone} == {alice}
    # and the run may learn again
    services.memory_create(user_pk=alice.pk, text="Likes jazz", actor=MODEL, run_pk=run.pk)


def test_an_undo_keeps_what_the_person_changed_since_the_forget(alice, run):
    acme, _ = services.memory_create(user_pk=alice.pk, text="Works at ACME", actor=PERSON)
    services.memory_update(memory=acme, text="Works at Globex", actor=MODEL, run_pk=run.pk)
    services.run_forget(run=run, actor=PERSON, actor_user=alice)
    services.memory_update(memory=acme, text="Works at ACME in Lyon", actor=PERSON)

    done = services.run_unforget(run=run, actor=PERSON, actor_user=alice)

    assert done.memories == 0 and _current(alice) == {"Works at ACME in Lyon"}


def test_forgetting_twice_undoes_nothing_more(alice, run):
    services.memory_create(user_pk=alice.pk, text="Lives in Berlin", actor=MODEL, run_pk=run.pk)
    services.run_forget(run=run, actor=PERSON, actor_user=alice)
    changes = MemoryChange.objects.count()

    assert services.run_forget(run=run, actor=PERSON, actor_user=alice).memories == 0
    assert MemoryChange.objects.count() == changes


# --- through the real model loop -------------------------------------------------------------
def tool_names(body: dict) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


@pytest.mark.parametrize("remember", [True, False])
def test_a_run_not_to_be_remembered_is_offered_no_memory_write_and_updates_nothing(
    make_agent, fake_openai, django_user_model, remember
):
    """The person's "don't remember this" reaches the model loop: no add/update/delete tool in the
    request, no automatic update after it. (Remembered, the same run is offered them: the control.)"""
    sarah = django_user_model.objects.create_user("sarah")
    services.memory_create(user_pk=sarah.pk, text="Likes tea", actor=PERSON)
    session = session_services.session_create(user=sarah)
    pending = session_services.run_create(
        session=session, input="I'm Sarah and I live in Porto", status=Run.Status.PENDING, remember=remember
    )
    fake_openai.reply(text="Nice to meet you.")
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User lives in Porto"})])
    fake_openai.reply(text="Done.")
    agent = make_agent("chat", enable_agentic_memory=True, update_memory_on_run=True)

    output = agent.run_pending(pending.run_id)

    assert output.content == "Nice to meet you."
    offered = tool_names(fake_openai.requests[0].body)
    writes = {"add_memory", "update_memory", "delete_memory"}
    if remember:
        assert writes & offered and len(fake_openai.requests) == 3
        assert _current(sarah) == {"Likes tea", "User lives in Porto"}
    else:
        assert not writes & offered
        assert "Likes tea" in str(fake_openai.requests[0].body)  # memories are still used
        assert len(fake_openai.requests) == 1  # no automatic update asked the model
        assert _current(sarah) == {"Likes tea"}
        assert not MemoryChange.objects.filter(run__run_id=pending.run_id).exists()
