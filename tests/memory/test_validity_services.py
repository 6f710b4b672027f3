"""Facts over time in the services: supersede, expire, reopen, their reverts, the database's own
guarantees (no cycle, a closed interval), and an export read back with its past facts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from agentapp.errors import Conflict, InvalidInput
from memory_app import selectors, services
from memory_app.models import Memory, MemoryChange

pytestmark = pytest.mark.django_db

PERSON = MemoryChange.Actor.PERSON
API = MemoryChange.Actor.API
DAY = timedelta(days=1)


@pytest.fixture
def lisbon(alice, remember):
    memory = remember(alice, "Lives in Lisbon", ["home"])
    Memory.objects.filter(pk=memory.pk).update(valid_from=timezone.now() - 20 * DAY)
    memory.refresh_from_db()
    return memory


def supersede(memory: Memory, text: str, **kwargs) -> Memory:
    return services.memory_supersede(memory=memory, text=text, actor=PERSON, **kwargs)


def changes(memory: Memory) -> list[str]:
    return list(MemoryChange.objects.filter(memory=memory).order_by("pk").values_list("action", flat=True))


def refuses(constraint: str):
    """The database itself refuses the write, naming `constraint`."""
    return pytest.raises(IntegrityError, match=constraint)


# --- supersede ----------------------------------------------------------------------------
def test_a_supersession_closes_the_old_fact_and_opens_the_new_one(alice, lisbon):
    when = timezone.now() - 10 * DAY
    porto = supersede(lisbon, "Lives in Porto", valid_from=when)
    lisbon.refresh_from_db()

    assert porto.is_current and (porto.valid_from, porto.topics) == (when, ["home"])
    assert (lisbon.valid_to, lisbon.superseded_by) == (when, porto)
    assert list(porto.supersedes.all()) == [lisbon]
    assert changes(lisbon) == ["create", "supersede"] and changes(porto) == ["create"]
    change = MemoryChange.objects.get(memory=lisbon, action="supersede")
    assert change.before["valid_to"] is None and change.before["superseded_by"] is None
    assert change.after["superseded_by"] == porto.memory_id and change.after["created"] is True
    assert [m.text for m in selectors.memories_active(user_pk=alice.pk)] == ["Lives in Porto"]


def test_as_of_answers_what_was_true_then_with_the_change_instant_belonging_to_the_new_fact(alice, lisbon):
    when = timezone.now() - 10 * DAY

    def as_of(moment):
        return [m.text for m in selectors.memories_in_time(user_pk=alice.pk, as_of=moment)]

    supersede(lisbon, "Lives in Porto", valid_from=when)
    assert as_of(when - timedelta(microseconds=1)) == ["Lives in Lisbon"]
    assert as_of(when) == ["Lives in Porto"]
    assert as_of(timezone.now() - 30 * DAY) == []
    everything = selectors.memories_in_time(user_pk=alice.pk, include_superseded=True)
    assert {m.text for m in everything} == {"Lives in Lisbon", "Lives in Porto"}


def test_a_supersession_takes_the_given_topics(lisbon):
    assert supersede(lisbon, "Lives in Porto", topics=["Moves"]).topics == ["moves"]


def test_a_closed_memory_cannot_be_superseded_again(lisbon):
    supersede(lisbon, "Lives in Porto")
    with pytest.raises(Conflict, match="no longer current"):
        supersede(lisbon, "Lives in Faro")
    assert not Memory.objects.filter(text="Lives in Faro").exists()


def test_a_deleted_memory_cannot_be_superseded(lisbon):
    services.memory_delete(memory=lisbon, actor=PERSON)
    with pytest.raises(Conflict, match="deleted"):
        supersede(lisbon, "Lives in Porto")


def test_a_memory_cannot_supersede_itself_nor_say_the_same(lisbon):
    with pytest.raises(InvalidInput, match="says the same"):
        supersede(lisbon, "lives in  LISBON")
    lisbon.refresh_from_db()
    assert lisbon.is_current and changes(lisbon) == ["create"]


@pytest.mark.parametrize(
    ("valid_from", "says"),
    [
        (lambda: timezone.now() + DAY, "future"),
        (lambda: timezone.now() - 25 * DAY, "before this memory became true"),
        (lambda: timezone.now().replace(tzinfo=None), "time zone"),
    ],
)
def test_a_supersession_refuses_a_valid_from_out_of_bounds(lisbon, valid_from, says):
    with pytest.raises(InvalidInput, match=says):
        supersede(lisbon, "Lives in Porto", valid_from=valid_from())
    assert Memory.objects.get().is_current


def test_a_fact_already_current_replaces_the_old_one_without_a_copy(alice, lisbon, remember):
    porto = remember(alice, "Lives in Porto")
    assert supersede(lisbon, "lives in porto") == porto
    assert Memory.objects.current().get() == porto
    assert MemoryChange.objects.get(memory=lisbon, action="supersede").after["created"] is False


def test_a_closed_fact_never_replaces_another_so_no_cycle_can_form(alice, lisbon):
    """Lisbon -> Porto -> Lisbon again: the third is a new memory, the first stays closed."""
    porto = supersede(lisbon, "Lives in Porto")
    back = supersede(porto, "Lives in Lisbon")
    lisbon.refresh_from_db()
    porto.refresh_from_db()

    assert back.pk not in (lisbon.pk, porto.pk) and back.is_current and back.superseded_by is None
    assert (lisbon.superseded_by, porto.superseded_by) == (porto, back)
    assert lisbon.valid_to <= porto.valid_to
    assert [m.text for m in selectors.memories_active(user_pk=alice.pk)] == ["Lives in Lisbon"]


def test_the_same_text_as_a_closed_memory_is_stored_as_a_new_current_one(alice, lisbon):
    services.memory_expire(memory=lisbon, actor=PERSON)
    again, created = services.memory_create(user_pk=alice.pk, text="Lives in Lisbon", actor=PERSON)
    lisbon.refresh_from_db()
    assert created and again.pk != lisbon.pk and again.is_current
    assert lisbon.valid_to is not None
    # and only one current copy: the next create answers it
    assert services.memory_create(user_pk=alice.pk, text="lives in lisbon", actor=PERSON) == (again, False)


# --- the database's guarantees ----------------------------------------------------------------
def test_the_database_refuses_a_current_memory_with_a_successor(alice, lisbon, remember):
    porto = remember(alice, "Lives in Porto")
    with refuses("memory_superseded_is_closed"), transaction.atomic():
        Memory.objects.filter(pk=lisbon.pk).update(superseded_by=porto)


def test_the_database_refuses_a_memory_superseded_by_itself(lisbon):
    with refuses("memory_not_superseded_by_itself"), transaction.atomic():
        Memory.objects.filter(pk=lisbon.pk).update(superseded_by=lisbon, valid_to=timezone.now())


def test_the_database_refuses_an_end_before_the_beginning(lisbon):
    with refuses("memory_valid_interval"), transaction.atomic():
        Memory.objects.filter(pk=lisbon.pk).update(valid_to=lisbon.valid_from - timedelta(seconds=1))
    Memory.objects.filter(pk=lisbon.pk).update(valid_to=lisbon.valid_from)  # an instant: allowed


# --- expire and reopen --------------------------------------------------------------------
def test_an_expired_memory_is_closed_with_nothing_in_its_place(alice, lisbon):
    when = timezone.now() - 5 * DAY
    expired = services.memory_expire(memory=lisbon, actor=API, valid_to=when)
    assert (expired.valid_to, expired.superseded_by) == (when, None)
    assert changes(lisbon) == ["create", "expire"]
    assert not selectors.memories_active(user_pk=alice.pk).exists()
    with pytest.raises(Conflict, match="no longer current"):
        services.memory_expire(memory=lisbon, actor=API)


@pytest.mark.parametrize(
    ("valid_to", "says"),
    [
        (lambda: timezone.now() + DAY, "future"),
        (lambda: timezone.now() - 25 * DAY, "before this memory became true"),
        (lambda: timezone.now().replace(tzinfo=None), "time zone"),
    ],
)
def test_an_expiry_refuses_a_valid_to_out_of_bounds(lisbon, valid_to, says):
    with pytest.raises(InvalidInput, match=says):
        services.memory_expire(memory=lisbon, actor=API, valid_to=valid_to())
    assert Memory.objects.get().is_current


def test_a_reopened_memory_is_current_again(lisbon):
    services.memory_expire(memory=lisbon, actor=PERSON)
    reopened = services.memory_reopen(memory=lisbon, actor=PERSON)
    assert reopened.is_current and changes(lisbon) == ["create", "expire", "reopen"]
    assert services.memory_reopen(memory=lisbon, actor=PERSON).is_current  # nothing to do
    assert changes(lisbon) == ["create", "expire", "reopen"]


def test_a_memory_is_not_reopened_beside_an_identical_current_one(alice, lisbon):
    services.memory_expire(memory=lisbon, actor=PERSON)
    services.memory_create(user_pk=alice.pk, text="Lives in Lisbon", actor=PERSON)
    with pytest.raises(Conflict, match="identical"):
        services.memory_reopen(memory=lisbon, actor=PERSON)


# --- reverts ------------------------------------------------------------------------------------
def test_reverting_a_supersession_reopens_the_old_fact_and_deletes_the_new(alice, lisbon):
    porto = supersede(lisbon, "Lives in Porto")
    change = MemoryChange.objects.get(memory=lisbon, action="supersede")

    reopened = services.memory_revert(change=change, actor=PERSON)
    porto.refresh_from_db()

    assert reopened.is_current and reopened.superseded_by is None
    assert porto.deleted_at is not None
    assert [m.text for m in selectors.memories_active(user_pk=alice.pk)] == ["Lives in Lisbon"]
    with pytest.raises(Conflict):
        services.memory_revert(change=change, actor=PERSON)


def test_reverting_a_supersession_by_a_fact_already_remembered_keeps_that_fact(alice, lisbon, remember):
    porto = remember(alice, "Lives in Porto")
    supersede(lisbon, "Lives in Porto")
    services.memory_revert(change=MemoryChange.objects.get(memory=lisbon, action="supersede"), actor=PERSON)
    assert set(Memory.objects.current()) == {lisbon, porto}


def test_a_supersession_is_not_reverted_once_its_replacement_has_changed(lisbon):
    porto = supersede(lisbon, "Lives in Porto")
    supersede(porto, "Lives in Faro")
    with pytest.raises(Conflict, match="undo that change first"):
        services.memory_revert(
            change=MemoryChange.objects.get(memory=lisbon, action="supersede"), actor=PERSON
        )


def test_an_expiry_and_its_undo_are_undone_in_turn(lisbon):
    when = timezone.now() - 5 * DAY
    services.memory_expire(memory=lisbon, actor=PERSON, valid_to=when)
    expiry = MemoryChange.objects.get(memory=lisbon, action="expire")

    assert services.memory_revert(change=expiry, actor=PERSON).is_current
    reopening = MemoryChange.objects.get(memory=lisbon, action="reopen")
    assert reopening.reverts == expiry

    closed = services.memory_revert(change=reopening, actor=PERSON)
    assert (closed.valid_to, closed.superseded_by) == (when, None)


def test_undoing_the_undo_of_a_supersession_closes_the_old_fact_again(alice, lisbon, remember):
    porto = remember(alice, "Lives in Porto")
    supersede(lisbon, "Lives in Porto")
    services.memory_revert(change=MemoryChange.objects.get(memory=lisbon, action="supersede"), actor=PERSON)
    reopening = MemoryChange.objects.get(memory=lisbon, action="reopen")

    closed = services.memory_revert(change=reopening, actor=PERSON)
    assert closed.superseded_by == porto and closed.valid_to is not None


# --- export and import ----------------------------------------------------------------------------
def test_an_export_read_back_keeps_past_facts_closed_with_their_dates(alice, bob, lisbon):
    moved = timezone.now() - 10 * DAY
    supersede(lisbon, "Lives in Porto", valid_from=moved)
    lisbon.refresh_from_db()
    document = selectors.memories_export(user_pk=alice.pk)
    assert {m["memory"]: m["valid_to"] for m in document["memories"]} == {
        "Lives in Lisbon": moved.isoformat(),
        "Lives in Porto": None,
    }

    counts = services.memories_import(user_pk=bob.pk, data=document, actor=PERSON)
    assert counts == {"created": 2, "updated": 0, "unchanged": 0}
    past = Memory.objects.get(user=bob, text="Lives in Lisbon")
    assert (past.valid_from, past.valid_to) == (lisbon.valid_from, moved)
    assert [m.text for m in selectors.memories_active(user_pk=bob.pk)] == ["Lives in Porto"]
    as_of = selectors.memories_in_time(user_pk=bob.pk, as_of=moved - DAY)
    assert [m.text for m in as_of] == ["Lives in Lisbon"]

    again = services.memories_import(user_pk=bob.pk, data=document, actor=PERSON)
    assert again == {"created": 0, "updated": 0, "unchanged": 2}
    assert Memory.objects.filter(user=bob).count() == 2


def test_an_export_read_back_keeps_when_the_current_fact_began_and_what_it_replaced(alice, bob, lisbon):
    moved = timezone.now() - 10 * DAY
    supersede(lisbon, "Lives in Porto", valid_from=moved)
    services.memories_import(user_pk=bob.pk, data=selectors.memories_export(user_pk=alice.pk), actor=PERSON)
    porto = Memory.objects.get(user=bob, text="Lives in Porto")
    assert porto.valid_from == moved  # else, between the two, bob's as_of finds nothing true
    assert Memory.objects.get(user=bob, text="Lives in Lisbon").superseded_by == porto


# --- the admin (an operator's view of the same) ----------------------------------------------------
def test_the_admin_lists_validity_and_filters_current_from_past_facts(admin_client, lisbon):
    porto = supersede(lisbon, "Lives in Porto")
    url = reverse("admin:memory_app_memory_changelist")

    everything = admin_client.get(url)
    current = admin_client.get(url, {"validity": "current"}).context["cl"].result_list
    past = admin_client.get(url, {"validity": "past"}).context["cl"].result_list

    assert (list(current), list(past)) == ([porto], [lisbon])
    page = everything.content.decode()
    assert "column-valid_from" in page and "column-valid_to" in page and "column-superseded_by" in page
    assert "Past (superseded or expired)" in page


def test_the_admin_change_page_shows_when_a_fact_was_true_and_what_replaced_it(admin_client, lisbon):
    porto = supersede(lisbon, "Lives in Porto")

    old = admin_client.get(reverse("admin:memory_app_memory_change", args=[lisbon.pk])).content.decode()
    new = admin_client.get(reverse("admin:memory_app_memory_change", args=[porto.pk])).content.decode()

    assert "field-valid_from" in old and "field-valid_to" in old
    assert reverse("admin:memory_app_memory_change", args=[porto.pk]) in old  # superseded_by, a link
    assert lisbon.memory_id in new  # replaced
    assert 'name="valid_to"' not in old  # shown, not edited: the services close a fact


def test_an_operator_marks_memories_as_no_longer_true_from_the_admin(
    admin_client, admin_user, alice, lisbon, remember
):
    tea = remember(alice, "Drinks green tea")
    supersede(tea, "Drinks black tea")
    response = admin_client.post(
        reverse("admin:memory_app_memory_changelist"),
        {"action": "expire_selected", "_selected_action": [lisbon.pk, tea.pk]},
        follow=True,
    )
    assert response.status_code == 200
    lisbon.refresh_from_db()
    assert lisbon.valid_to is not None
    change = MemoryChange.objects.get(memory=lisbon, action="expire")
    assert (change.actor, change.actor_user) == ("operator", admin_user)
    assert MemoryChange.objects.filter(memory=tea, action="expire").count() == 0  # closed already: skipped
