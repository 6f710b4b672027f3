"""Every write goes through memory_app.services and leaves the right MemoryChange."""

from __future__ import annotations

import pytest

from agentapp.errors import Conflict, InvalidInput
from memory_app import selectors, services
from memory_app.models import Memory, MemoryChange

pytestmark = pytest.mark.django_db

Actor = MemoryChange.Actor


def test_creating_records_a_change_with_the_actor_and_the_new_state(alice, staff):
    memory, created = services.memory_create(
        user_pk=alice.pk,
        text="  Likes   green tea ",
        topics="Drinks, tea",
        actor=Actor.OPERATOR,
        actor_user=staff,
    )

    assert created and memory.text == "Likes green tea" and memory.topics == ["drinks", "tea"]
    change = MemoryChange.objects.get()
    assert (change.action, change.actor, change.actor_user, change.user) == (
        "create",
        "operator",
        staff,
        alice,
    )
    assert change.before is None and change.after == {"text": "Likes green tea", "topics": ["drinks", "tea"]}


def test_an_exact_duplicate_for_the_same_user_is_not_stored_twice(alice, bob, remember):
    first = remember(alice, "Likes green tea")

    again, created = services.memory_create(user_pk=alice.pk, text="likes  GREEN tea", actor=Actor.MODEL)
    bobs, bob_created = services.memory_create(user_pk=bob.pk, text="Likes green tea", actor=Actor.MODEL)

    assert again == first and not created
    assert bob_created and bobs != first
    assert MemoryChange.objects.filter(user=alice).count() == 1


def test_updating_records_before_and_after(alice, remember):
    memory = remember(alice, "Lives in Paris", ["home"])

    services.memory_update(memory=memory, text="Lives in Lyon", actor=Actor.API)

    change = memory.changes.first()
    assert change.action == "update" and change.actor == "api"
    assert change.before == {"text": "Lives in Paris", "topics": ["home"]}
    assert change.after == {"text": "Lives in Lyon", "topics": ["home"]}


def test_an_update_that_changes_nothing_records_nothing(alice, remember):
    memory = remember(alice, "Lives in Paris", ["home"])

    services.memory_update(memory=memory, text=" Lives in  Paris", topics=["Home"], actor=Actor.PERSON)

    assert memory.changes.count() == 1


def test_an_update_cannot_make_a_duplicate_of_another_memory(alice, remember):
    remember(alice, "Likes tea")
    coffee = remember(alice, "Likes coffee")

    with pytest.raises(Conflict):
        services.memory_update(memory=coffee, text="likes TEA", actor=Actor.PERSON)
    coffee.refresh_from_db()
    assert coffee.text == "Likes coffee"


def test_the_before_state_is_read_from_the_database_not_a_stale_copy(alice, remember):
    memory = remember(alice, "Lives in Paris")
    stale = Memory.objects.get(pk=memory.pk)
    services.memory_update(memory=memory, text="Lives in Lyon", actor=Actor.PERSON)

    services.memory_update(memory=stale, text="Lives in Nice", actor=Actor.PERSON)

    assert memory.changes.first().before["text"] == "Lives in Lyon"
    assert stale.text == "Lives in Nice"


def test_deleting_is_soft_and_leaves_the_context_at_once(alice, remember):
    memory = remember(alice, "Lives in Paris")

    services.memory_delete(memory=memory, actor=Actor.MODEL)

    memory.refresh_from_db()
    assert memory.deleted_at is not None
    assert selectors.memories_for_context(user_pk=alice.pk, limit=50) == ([], 0)
    change = memory.changes.first()
    assert change.action == "delete" and change.before["text"] == "Lives in Paris" and change.after is None


def test_a_deleted_memory_can_be_restored(alice, remember, staff):
    memory = remember(alice, "Lives in Paris")
    services.memory_delete(memory=memory, actor=Actor.PERSON)

    services.memory_restore(memory=memory, actor=Actor.OPERATOR, actor_user=staff)

    rows, total = selectors.memories_for_context(user_pk=alice.pk, limit=50)
    assert [(r["memory_id"], r["text"], r["topics"]) for r in rows] == [
        (memory.memory_id, "Lives in Paris", [])
    ]
    assert total == 1
    change = memory.changes.first()
    assert (change.action, change.actor, change.actor_user) == ("restore", "operator", staff)
    assert change.after == {"text": "Lives in Paris", "topics": []}


def test_restoring_is_refused_when_an_identical_memory_came_back_meanwhile(alice, remember):
    memory = remember(alice, "Lives in Paris")
    services.memory_delete(memory=memory, actor=Actor.PERSON)
    remember(alice, "Lives in Paris")

    with pytest.raises(Conflict):
        services.memory_restore(memory=memory, actor=Actor.PERSON)


def test_reverting_an_update_writes_the_old_state_back(alice, remember):
    memory = remember(alice, "Lives in Paris", ["home"])
    services.memory_update(memory=memory, text="Lives in Lyon", topics=["city"], actor=Actor.MODEL)
    update = memory.changes.first()

    services.memory_revert(change=update, actor=Actor.PERSON, actor_user=alice)

    memory.refresh_from_db()
    assert (memory.text, memory.topics) == ("Lives in Paris", ["home"])
    revert = memory.changes.first()
    assert revert.action == "update" and revert.reverts == update and revert.actor == "person"


def test_reverting_a_create_soft_deletes_and_reverting_that_restores(alice, remember):
    memory = remember(alice, "Lives in Paris")
    create = memory.changes.get()

    services.memory_revert(change=create, actor=Actor.PERSON)
    memory.refresh_from_db()
    assert memory.is_deleted
    delete = memory.changes.first()
    assert delete.action == "delete" and delete.reverts == create

    services.memory_revert(change=delete, actor=Actor.PERSON)
    memory.refresh_from_db()
    assert not memory.is_deleted and memory.changes.first().action == "restore"


def test_reverting_an_update_of_a_since_deleted_memory_restores_it_in_the_old_state(alice, remember):
    memory = remember(alice, "Lives in Paris")
    services.memory_update(memory=memory, text="Lives in Lyon", actor=Actor.MODEL)
    update = memory.changes.first()
    services.memory_delete(memory=memory, actor=Actor.MODEL)

    services.memory_revert(change=update, actor=Actor.PERSON)

    memory.refresh_from_db()
    assert not memory.is_deleted and memory.text == "Lives in Paris"
    assert [c.action for c in memory.changes.all()[:2]] == ["update", "restore"]


def test_invalid_text_and_actors_are_refused(alice):
    with pytest.raises(InvalidInput):
        services.memory_create(user_pk=alice.pk, text="   ", actor=Actor.PERSON)
    with pytest.raises(InvalidInput):
        services.memory_create(user_pk=alice.pk, text="x" * 2_001, actor=Actor.PERSON)
    with pytest.raises(ValueError):
        services.memory_create(user_pk=alice.pk, text="ok", actor="somebody")
    assert not Memory.objects.exists()


def test_importing_an_export_into_another_user_and_again_changes_nothing_the_second_time(
    alice, bob, remember
):
    remember(alice, "Likes tea", ["drinks"])
    remember(alice, "Lives in Paris", ["home"])
    remember(bob, "Likes tea", ["food"])
    exported = selectors.memories_export(user_pk=alice.pk)

    first = services.memories_import(user_pk=bob.pk, data=exported, actor=Actor.PERSON, actor_user=bob)
    second = services.memories_import(user_pk=bob.pk, data=exported, actor=Actor.PERSON, actor_user=bob)

    assert first == {"created": 1, "updated": 1, "unchanged": 0}
    assert second == {"created": 0, "updated": 0, "unchanged": 2}
    bobs = {m.text: m.topics for m in selectors.memories_active(user_pk=bob.pk)}
    assert bobs == {"Likes tea": ["drinks"], "Lives in Paris": ["home"]}


def test_an_import_with_one_bad_entry_stores_nothing(alice):
    data = {"memories": [{"memory": "Likes tea"}, {"memory": ""}]}

    with pytest.raises(InvalidInput, match="memory #2"):
        services.memories_import(user_pk=alice.pk, data=data, actor=Actor.PERSON)
    assert not Memory.objects.exists()


def test_duplicates_inside_one_import_file_are_stored_once(alice):
    data = {"memories": [{"memory": "Likes tea", "topics": ["a"]}, {"text": "likes tea", "topics": ["b"]}]}

    counts = services.memories_import(user_pk=alice.pk, data=data, actor=Actor.PERSON)
    again = services.memories_import(user_pk=alice.pk, data=data, actor=Actor.PERSON)

    assert counts["created"] == 1 and again == {"created": 0, "updated": 0, "unchanged": 1}
    assert Memory.objects.get().topics == ["a"]


def test_a_memory_tool_call_with_another_users_memory_id_finds_nothing(
    alice, bob, remember, make_agent, fake_openai
):
    secret = remember(alice, "Alice's door code is 4711")
    fake_openai.reply(
        tool_calls=[
            ("update_memory", {"memory_id": secret.memory_id, "memory": "owned"}),
            ("delete_memory", {"memory_id": secret.memory_id}),
        ]
    )
    fake_openai.reply(text="Done.")

    output = make_agent("chat", enable_agentic_memory=True).run("go", user_id="bob", session_id="b")

    secret.refresh_from_db()
    assert output.status == "completed"
    assert secret.text == "Alice's door code is 4711" and not secret.is_deleted
    assert secret.changes.count() == 1
    tool_results = [m["content"] for m in fake_openai.requests[-1].body["messages"] if m["role"] == "tool"]
    assert len(tool_results) == 2 and all("not found" in r for r in tool_results)
    assert "4711" not in " ".join(tool_results)
