from __future__ import annotations

import pytest

from memory_app.models import Memory, MemoryChange
from memory_app.services import memory_create

from .conftest import assert_error

pytestmark = pytest.mark.django_db

PERSON = MemoryChange.Actor.PERSON


@pytest.fixture
def jazz(alice):
    return memory_create(user_pk=alice.pk, text="Likes jazz", topics=["music"], actor=PERSON)[0]


def test_a_memory_is_created_for_the_caller_with_an_api_audit_entry(alice, alice_api):
    response = alice_api.post("/api/memories", {"text": "Prefers email", "topics": ["Contact"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["text"], body["topics"], body["user_id"]) == ("Prefers email", ["contact"], "alice")
    change = MemoryChange.objects.get(memory__memory_id=body["memory_id"])
    assert (change.action, change.actor, change.actor_user) == ("create", "api", alice)


def test_the_same_memory_twice_answers_the_existing_one(alice_api, jazz):
    response = alice_api.post("/api/memories", {"text": "likes  JAZZ"})
    assert response.status_code == 200
    assert response.json()["memory_id"] == jazz.memory_id


def test_a_memory_create_validates_its_input(alice_api):
    assert_error(alice_api.post("/api/memories", {}), 422)
    assert_error(alice_api.post("/api/memories", {"text": "   "}), 422)
    assert_error(alice_api.post("/api/memories", {"text": "x" * 2001}), 422)
    assert_error(alice_api.post("/api/memories", {"text": "ok", "topics": "music"}), 422)
    assert not Memory.objects.exists()


def test_a_memory_is_created_for_another_user_only_with_a_service_key(alice_api, service_api, anon_api):
    assert_error(alice_api.post("/api/memories", {"text": "x", "user_id": "bob"}), 404)
    assert_error(anon_api.post("/api/memories", {"text": "x"}), 401)
    response = service_api.post("/api/memories", {"text": "Lives in Porto", "user_id": "carol"})
    assert response.status_code == 201
    assert Memory.objects.get().user.username == "carol"


def test_the_memory_list_filters_by_topic_and_text_and_pages(alice, bob, alice_api, jazz):
    memory_create(user_pk=alice.pk, text="Lives in Lisbon", topics=["home"], actor=PERSON)
    memory_create(user_pk=bob.pk, text="Likes jazz too", topics=["music"], actor=PERSON)
    body = alice_api.get("/api/memories").json()
    assert body["count"] == 2
    assert {m["user_id"] for m in body["items"]} == {"alice"}
    assert [m["text"] for m in alice_api.get("/api/memories", topic="music").json()["items"]] == [
        "Likes jazz"
    ]
    assert [m["text"] for m in alice_api.get("/api/memories", search="lisbon").json()["items"]] == [
        "Lives in Lisbon"
    ]
    assert len(alice_api.get("/api/memories", limit=1).json()["items"]) == 1
    assert_error(alice_api.get("/api/memories", offset=-1), 422)


def test_the_memory_list_is_for_others_only_with_a_service_key(bob_api, service_api, anon_api, jazz):
    assert_error(bob_api.get("/api/memories", user_id="alice"), 404)
    assert_error(anon_api.get("/api/memories"), 401)
    assert service_api.get("/api/memories", user_id="alice").json()["count"] == 1


def test_a_memory_is_read_by_its_owner_and_staff_only(alice_api, bob_api, service_api, anon_api, jazz):
    path = f"/api/memories/{jazz.memory_id}"
    assert alice_api.get(path).json()["text"] == "Likes jazz"
    assert service_api.get(path).status_code == 200
    assert_error(bob_api.get(path), 404)
    assert_error(anon_api.get(path), 401)
    assert_error(alice_api.get("/api/memories/mem_missing"), 404)


def test_a_memory_is_edited_by_its_owner(alice_api, bob_api, anon_api, jazz):
    path = f"/api/memories/{jazz.memory_id}"
    body = alice_api.patch(path, {"text": "Loves jazz", "topics": ["music", "evenings"]}).json()
    assert (body["text"], body["topics"]) == ("Loves jazz", ["music", "evenings"])
    assert_error(alice_api.patch(path, {"text": ""}), 422)
    assert_error(alice_api.patch(path, {"topics": [1]}), 422)
    assert_error(bob_api.patch(path, {"text": "mine"}), 404)
    assert_error(anon_api.patch(path, {"text": "mine"}), 401)
    jazz.refresh_from_db()
    assert jazz.text == "Loves jazz"


def test_editing_into_a_duplicate_is_a_conflict(alice, alice_api, jazz):
    other = memory_create(user_pk=alice.pk, text="Likes blues", actor=PERSON)[0]
    assert_error(alice_api.patch(f"/api/memories/{other.memory_id}", {"text": "Likes jazz"}), 409)


def test_a_memory_delete_is_soft_and_by_its_owner(alice_api, bob_api, anon_api, jazz):
    path = f"/api/memories/{jazz.memory_id}"
    assert_error(bob_api.delete(path), 404)
    assert_error(anon_api.delete(path), 401)
    assert alice_api.delete(path).status_code == 204
    jazz.refresh_from_db()
    assert jazz.deleted_at is not None
    assert_error(alice_api.get(path), 404)
    assert alice_api.get("/api/memories").json()["count"] == 0


def test_a_memory_history_lists_its_changes_newest_first(alice_api, bob_api, anon_api, jazz):
    alice_api.patch(f"/api/memories/{jazz.memory_id}", {"text": "Loves jazz"})
    alice_api.patch(f"/api/memories/{jazz.memory_id}", {"topics": ["jazz"]})
    path = f"/api/memories/{jazz.memory_id}/history"
    history = alice_api.get(path).json()
    assert [c["action"] for c in history] == ["update", "update", "create"]
    assert [c["actor"] for c in history] == ["api", "api", "person"]
    assert history[1]["before"] == {"text": "Likes jazz", "topics": ["music"]}
    assert history[1]["actor_user_id"] == "alice"
    assert_error(bob_api.get(path), 404)
    assert_error(anon_api.get(path), 401)


def test_a_deleted_memory_is_gone_with_its_history_and_the_answer_says_how_to_restore_it(alice_api, jazz):
    """Was: its history still answered 200 after the DELETE (Schemathesis: use after free)."""
    alice_api.delete(f"/api/memories/{jazz.memory_id}")

    gone = alice_api.get(f"/api/memories/{jazz.memory_id}/history")

    assert_error(gone, 404)
    change_id = gone.json()["detail"]["change_id"]
    assert MemoryChange.objects.get(pk=change_id).action == "delete"
    restored = alice_api.post(f"/api/memories/{jazz.memory_id}/revert/{change_id}")
    assert restored.status_code == 200 and restored.json()["text"] == "Likes jazz"
    assert [c["action"] for c in alice_api.get(f"/api/memories/{jazz.memory_id}/history").json()][:2] == [
        "restore",
        "delete",
    ]


def test_a_change_is_reverted_through_its_memory(alice_api, bob_api, anon_api, jazz):
    alice_api.patch(f"/api/memories/{jazz.memory_id}", {"text": "Hates jazz"})
    update = MemoryChange.objects.get(memory=jazz, action="update")
    path = f"/api/memories/{jazz.memory_id}/revert/{update.pk}"
    assert_error(bob_api.post(path), 404)
    assert_error(anon_api.post(path), 401)
    assert_error(alice_api.post(f"/api/memories/{jazz.memory_id}/revert/0"), 422)
    response = alice_api.post(path)
    assert response.status_code == 200, response.content
    assert response.json()["text"] == "Likes jazz"
    newest = alice_api.get(f"/api/memories/{jazz.memory_id}/history").json()[0]
    assert newest["reverts_change_id"] == update.pk


def test_a_change_of_another_memory_is_not_found(alice, alice_api, jazz):
    other = memory_create(user_pk=alice.pk, text="Likes tea", actor=PERSON)[0]
    change = MemoryChange.objects.get(memory=other)
    assert_error(alice_api.post(f"/api/memories/{jazz.memory_id}/revert/{change.pk}"), 404)


def test_memory_topics_are_counted_for_the_caller(alice, alice_api, bob_api, service_api, anon_api, jazz):
    memory_create(user_pk=alice.pk, text="Plays piano", topics=["music", "hobby"], actor=PERSON)
    assert alice_api.get("/api/memory-topics").json() == [
        {"topic": "music", "count": 2},
        {"topic": "hobby", "count": 1},
    ]
    assert bob_api.get("/api/memory-topics").json() == []
    assert_error(bob_api.get("/api/memory-topics", user_id="alice"), 404)
    assert_error(anon_api.get("/api/memory-topics"), 401)
    assert len(service_api.get("/api/memory-topics", user_id="alice").json()) == 2
    assert_error(alice_api.get("/api/memory-topics", user_id=""), 422)


def test_a_merge_is_named_both_ways_in_the_history_and_a_merged_away_memory_says_how_to_undo_it(
    alice, alice_api, jazz
):
    from memory_app.services import memories_merge

    blues = memory_create(user_pk=alice.pk, text="Likes jazz and blues", actor=PERSON)[0]
    merged = memories_merge(
        user_pk=alice.pk,
        memory_ids=[jazz.memory_id, blues.memory_id],
        text="Likes jazz and blues",
        topics=["music"],
        actor="memory_manager",
    )

    [head] = alice_api.get(f"/api/memories/{merged.memory_id}/history").json()
    gone = alice_api.get(f"/api/memories/{jazz.memory_id}/history")

    assert head["action"] == "merge" and head["merged_from"] == [jazz.memory_id, blues.memory_id]
    assert_error(gone, 404)
    part = MemoryChange.objects.get(pk=gone.json()["detail"]["change_id"])
    assert (part.action, part.merge_id) == ("merge", head["change_id"])
    restored = alice_api.post(f"/api/memories/{jazz.memory_id}/revert/{part.pk}")
    assert restored.status_code == 200 and restored.json()["text"] == "Likes jazz"
    assert alice_api.get(f"/api/memories/{merged.memory_id}").status_code == 404
