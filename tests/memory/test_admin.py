"""Operators in the admin: lists with filters, and writes that go through the services as operator changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memory_app import services
from memory_app.models import Memory, MemoryChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def memories(alice, bob, remember):
    return {
        "tea": remember(alice, "Drinks green tea", ["drinks"]),
        "paris": remember(alice, "Lives in Paris", ["home"], actor="model"),
        "bob": remember(bob, "Bob plays chess", ["games"]),
    }


def test_the_memory_list_filters_by_user_topic_and_state(admin_client, alice, memories):
    url = reverse("admin:memory_app_memory_changelist")

    everything = admin_client.get(url).content.decode()
    alices = admin_client.get(url, {"user__id__exact": alice.pk}).content.decode()
    drinks = admin_client.get(url, {"topic": "drinks"}).content.decode()

    assert all(m.text in everything for m in memories.values())
    assert "Bob plays chess" not in alices and "Lives in Paris" in alices
    assert "Drinks green tea" in drinks and "Lives in Paris" not in drinks
    assert "drinks (1)" in everything


def test_the_change_list_filters_by_actor_topic_and_date(admin_client, memories):
    url = reverse("admin:memory_app_memorychange_changelist")

    by_model = admin_client.get(url, {"actor__exact": "model"})
    by_topic = admin_client.get(url, {"topic": "games"})
    by_date = admin_client.get(url, {"created_at__gte": "2000-01-01 00:00:00+00:00"})

    assert by_model.context["cl"].result_count == 1
    assert [c.memory for c in by_topic.context["cl"].result_list] == [memories["bob"]]
    assert by_date.context["cl"].result_count == 3


def test_an_operator_edit_in_the_admin_is_recorded_as_an_operator_change(admin_client, admin_user, memories):
    tea = memories["tea"]
    url = reverse("admin:memory_app_memory_change", args=[tea.pk])

    response = admin_client.post(
        url,
        {
            "text": "Drinks jasmine tea",
            "topics": '["drinks"]',
            "changes-TOTAL_FORMS": 0,
            "changes-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302
    change = tea.changes.first()
    assert (change.action, change.actor, change.actor_user) == ("update", "operator", admin_user)
    assert change.before["text"] == "Drinks green tea" and change.after["text"] == "Drinks jasmine tea"


def test_adding_in_the_admin_goes_through_the_service(admin_client, admin_user, alice):
    response = admin_client.post(
        reverse("admin:memory_app_memory_add"),
        {
            "user": alice.pk,
            "text": " Likes  jazz ",
            "topics": "Music",
            "changes-TOTAL_FORMS": 0,
            "changes-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302
    memory = Memory.objects.get()
    assert (memory.text, memory.topics, memory.normalized_text) == ("Likes jazz", ["music"], "likes jazz")
    assert memory.changes.get().actor == "operator"


def test_deleting_in_the_admin_is_soft_and_restorable(admin_client, memories):
    tea = memories["tea"]
    url = reverse("admin:memory_app_memory_changelist")

    admin_client.post(url, {"action": "delete_selected", "_selected_action": [tea.pk], "post": "yes"})
    tea.refresh_from_db()
    assert tea.is_deleted and tea.changes.first().actor == "operator"

    admin_client.post(url, {"action": "restore_selected", "_selected_action": [tea.pk]})
    tea.refresh_from_db()
    assert not tea.is_deleted and tea.changes.first().action == "restore"


def test_reverting_a_change_from_the_admin(admin_client, memories):
    tea = memories["tea"]
    services.memory_update(memory=tea, text="Drinks coffee", actor="model")
    update = tea.changes.first()

    admin_client.post(
        reverse("admin:memory_app_memorychange_changelist"),
        {"action": "revert_selected", "_selected_action": [update.pk]},
    )

    tea.refresh_from_db()
    assert tea.text == "Drinks green tea"
    assert MemoryChange.objects.filter(reverts=update, actor="operator").exists()


def test_an_operator_who_may_only_view_memories_cannot_revert_a_change(client, django_user_model, memories):
    """Was: the revert action needed only the view permission, though it rewrites a memory."""
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="pw-for-tests-123", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_memorychange", "view_memory"]))
    client.force_login(viewer)
    tea = memories["tea"]
    services.memory_update(memory=tea, text="Drinks coffee", actor="model")
    update = tea.changes.first()
    url = reverse("admin:memory_app_memorychange_changelist")

    page = client.get(url).content.decode()
    client.post(url, {"action": "revert_selected", "_selected_action": [update.pk]})

    assert "revert_selected" not in page  # the action is not offered
    tea.refresh_from_db()
    assert tea.text == "Drinks coffee" and not MemoryChange.objects.filter(reverts=update).exists()


# The admin edits a memory's topics as a list, not as raw JSON
def test_the_admin_edits_a_memorys_topics_as_a_comma_separated_list(client, staff, alice):
    memory, _ = services.memory_create(
        user_pk=alice.pk, text="Alice likes tea", topics=["food", "drinks"], actor="person"
    )
    client.force_login(staff)
    url = reverse("admin:memory_app_memory_change", args=[memory.pk])
    body = client.get(url).content.decode()
    assert 'name="topics" value="food, drinks"' in body
    assert '<textarea name="topics"' not in body  # was: the JSON list in a text area
    form = {"text": "Alice likes green tea", "topics": "food, tea , ", "changes-TOTAL_FORMS": 0}
    response = client.post(url, {**form, "changes-INITIAL_FORMS": 0})
    assert response.status_code == 302, response.content.decode()[:2000]
    memory.refresh_from_db()
    assert memory.topics == ["food", "tea"] and memory.text == "Alice likes green tea"
