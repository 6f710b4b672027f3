"""Merging memories (memory optimisation): one audited change each way, undone by a revert."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from agentapp.errors import Conflict, InvalidInput, MemoryNotFound
from memory_app import selectors, services
from memory_app.models import Memory, MemoryChange

pytestmark = pytest.mark.django_db

Actor = MemoryChange.Actor


@pytest.fixture
def three_teas(alice, remember):
    return [
        remember(alice, "Likes green tea", ["drinks"]),
        remember(alice, "User likes green tea", ["food"]),
        remember(alice, "Drinks green tea every morning", ["drinks", "routine"]),
    ]


def _merge(alice, sources, text="Drinks green tea every morning, and likes it", **kwargs):
    kwargs.setdefault("actor", Actor.MEMORY_MANAGER)
    return services.memories_merge(
        user_pk=alice.pk,
        memory_ids=[m.memory_id for m in sources],
        text=text,
        topics=["drinks"],
        **kwargs,
    )


def test_three_duplicates_merged_into_one_are_soft_deleted_and_named_by_the_merge(alice, staff, three_teas):
    merged = _merge(alice, three_teas, actor=Actor.OPERATOR, actor_user=staff)

    live = list(selectors.memories_active(user_pk=alice.pk))
    assert live == [merged] and merged.topics == ["drinks"]
    assert all(Memory.objects.get(pk=m.pk).deleted_at is not None for m in three_teas)
    head = MemoryChange.objects.get(memory=merged)
    assert (head.action, head.actor, head.actor_user, head.before) == ("merge", "operator", staff, None)
    assert head.after == {"text": merged.text, "topics": ["drinks"]}
    parts = list(head.merged_sources.order_by("pk"))
    assert [p.memory_id for p in parts] == [m.pk for m in three_teas]
    assert all(p.action == "merge" and p.after is None and p.before["text"] for p in parts)
    assert parts[0].before == {"text": "Likes green tea", "topics": ["drinks"]}


def test_reverting_the_merge_brings_the_three_back_and_deletes_the_merged_memory(alice, staff, three_teas):
    merged = _merge(alice, three_teas)
    head = MemoryChange.objects.get(memory=merged)

    result = services.memory_revert(change=head, actor=Actor.OPERATOR, actor_user=staff)

    assert result.pk == merged.pk and result.is_deleted
    live = set(selectors.memories_active(user_pk=alice.pk).values_list("text", flat=True))
    assert live == {m.text for m in three_teas}
    undo = MemoryChange.objects.get(memory=merged, action="delete")
    assert (undo.reverts, undo.actor, undo.actor_user) == (head, "operator", staff)
    for part in head.merged_sources.all():
        restore = MemoryChange.objects.get(memory=part.memory, action="restore")
        assert restore.reverts == part and restore.after == part.before


def test_reverting_a_merged_away_memorys_change_undoes_the_whole_merge(alice, three_teas):
    merged = _merge(alice, three_teas)
    part = MemoryChange.objects.get(memory=three_teas[1], action="merge")

    result = services.memory_revert(change=part, actor=Actor.PERSON)

    assert result.pk == three_teas[1].pk and not result.is_deleted
    assert selectors.memories_active(user_pk=alice.pk).count() == 3
    assert Memory.objects.get(pk=merged.pk).is_deleted
    # Reverting the other side afterwards finds nothing left to do and records nothing.
    before = MemoryChange.objects.count()
    services.memory_revert(change=MemoryChange.objects.get(memory=merged, action="merge"), actor="person")
    assert MemoryChange.objects.count() == before


def test_the_merged_text_may_be_one_of_the_sources_texts(alice, three_teas):
    merged = _merge(alice, three_teas, text="likes  GREEN tea")

    assert merged.text == "likes GREEN tea"
    services.memory_revert(change=MemoryChange.objects.get(memory=merged), actor=Actor.PERSON)
    assert selectors.memories_active(user_pk=alice.pk).count() == 3


def test_a_merge_refuses_another_persons_memory_and_changes_nothing(alice, bob, remember, three_teas):
    bobs = remember(bob, "Likes green tea")

    with pytest.raises(MemoryNotFound):
        _merge(alice, [three_teas[0], bobs])
    with pytest.raises(MemoryNotFound):
        services.memories_merge(
            user_pk=alice.pk,
            memory_ids=[three_teas[0].memory_id, "mem_nope"],
            text="x",
            topics=[],
            actor="person",
        )

    assert selectors.memories_active(user_pk=alice.pk).count() == 3
    assert not MemoryChange.objects.filter(action="merge").exists()


def test_a_merge_refuses_a_deleted_memory_fewer_than_two_and_an_identical_outsider(
    alice, remember, three_teas
):
    services.memory_delete(memory=three_teas[2], actor=Actor.PERSON)
    outsider = remember(alice, "Lives in Paris")

    with pytest.raises(Conflict, match="deleted"):
        _merge(alice, three_teas)
    with pytest.raises(InvalidInput, match="two"):
        _merge(alice, [three_teas[0], three_teas[0]])
    with pytest.raises(Conflict, match="identical"):
        _merge(alice, three_teas[:2], text=outsider.text)

    assert set(selectors.memories_active(user_pk=alice.pk)) == {three_teas[0], three_teas[1], outsider}


def test_reverting_a_merge_is_refused_whole_when_a_source_came_back_meanwhile(alice, remember, three_teas):
    merged = _merge(alice, three_teas)
    remember(alice, "Likes green tea")  # identical to a merged-away source

    with pytest.raises(Conflict):
        services.memory_revert(change=MemoryChange.objects.get(memory=merged), actor=Actor.PERSON)

    assert not Memory.objects.get(pk=merged.pk).is_deleted


def test_the_database_still_holds_one_live_copy_per_text_after_a_revert(alice, three_teas):
    merged = _merge(alice, three_teas)
    services.memory_revert(change=MemoryChange.objects.get(memory=merged), actor=Actor.PERSON)

    with pytest.raises(IntegrityError):
        Memory.objects.create(user=alice, text="x", normalized_text=three_teas[0].normalized_text)


def test_a_merge_refuses_a_past_fact(alice, three_teas):
    services.memory_expire(memory=three_teas[0], actor=Actor.PERSON)

    with pytest.raises(Conflict, match="past fact"):
        _merge(alice, three_teas)

    assert Memory.objects.get(pk=three_teas[0].pk).valid_to is not None
    assert not MemoryChange.objects.filter(action="merge").exists()
