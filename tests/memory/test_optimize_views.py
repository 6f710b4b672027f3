"""A person merges their own duplicate memories from the memory editor, an operator anyone's: a dry
run, then Apply."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from memory_app import selectors
from memory_app.models import Memory, MemoryChange

from .test_views import htmx

pytestmark = pytest.mark.django_db

OPTIMIZE = reverse("memory:optimize")
APPLY = reverse("memory:optimize-apply")


@pytest.fixture
def teas(alice, remember):
    return [
        remember(alice, "Likes green tea", ["drinks"]),
        remember(alice, "User likes green tea", ["drinks"]),
        remember(alice, "Likes green tea a lot", ["drinks"]),
        remember(alice, "Lives in Paris", ["home"]),
    ]


@pytest.fixture
def operator(django_user_model):
    """Staff who may act for others, but no superuser."""
    user = django_user_model.objects.create_user("oper", password="pw-for-tests-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="act_for_others"))
    return user


def _merge_answer(*groups: list[Memory], text: str = "User likes green tea a lot") -> str:
    return json.dumps({"merges": [{"ids": [m.memory_id for m in g], "memory": text} for g in groups]})


def _token(content: str) -> str:
    return re.search(r'name="plan" value="([^"]+)"', content).group(1)


def test_anonymous_visitors_are_sent_to_sign_in(client, teas):
    for url in (OPTIMIZE, APPLY):
        response = client.post(url, {"user": "alice"})
        assert response.status_code == 302 and "/login" in response["Location"]
    admin = client.post(reverse("admin:memory_app_memory_changelist"), _action(teas[:1], index=0))
    assert admin.status_code == 302 and "/admin/login" in admin["Location"]
    assert not MemoryChange.objects.filter(action="merge").exists()


def test_a_person_merges_their_own_duplicates_recorded_as_their_own_changes(client, alice, teas, app_model):
    """Was: only staff could (a 403 for the person, and no button)."""
    client.force_login(alice)
    assert client.get(reverse("memory:list")).content.decode().count("Merge duplicates") == 1
    app_model.reply(text=_merge_answer(teas[:3]))

    plan = client.post(OPTIMIZE, **htmx("memory-optimize"))
    applied = client.post(APPLY, {"plan": _token(plan.content.decode())}, **htmx("memory-optimize"))

    assert plan.status_code == 200 and applied.status_code == 200
    assert {m.text for m in selectors.memories_active(user_pk=alice.pk)} == {
        "User likes green tea a lot",
        "Lives in Paris",
    }
    merges = MemoryChange.objects.filter(action="merge")
    assert merges.count() == 4 and {c.actor for c in merges} == {MemoryChange.Actor.PERSON}
    assert {c.actor_user for c in merges} == {alice}


def test_a_person_cannot_merge_anothers_memories_nor_use_anothers_plan(
    client, alice, bob, staff, teas, app_model
):
    client.force_login(staff)
    app_model.reply(text=_merge_answer(teas[:3]))
    staffs_plan = _token(client.post(OPTIMIZE, {"user": "alice"}, **htmx("memory-optimize")).content.decode())
    client.force_login(bob)

    assert client.post(OPTIMIZE, {"user": "alice"}).status_code == 404
    assert client.post(APPLY, {"plan": staffs_plan}).status_code == 422
    assert len(app_model.requests) == 1 and not MemoryChange.objects.filter(action="merge").exists()


def test_asking_for_a_plan_counts_against_the_persons_runs_a_minute(client, alice, teas, app_model, settings):
    settings.AGENT_RUNS_PER_MINUTE = 1
    client.force_login(alice)
    app_model.reply(text=_merge_answer(teas[:3]))

    first = client.post(OPTIMIZE, **htmx("memory-optimize"))
    second = client.post(OPTIMIZE, **htmx("memory-optimize"))

    assert first.status_code == 200 and "Too many runs" in second.content.decode()
    assert len(app_model.requests) == 1


def test_the_dry_run_lists_the_planned_merges_and_writes_nothing(client, staff, alice, teas, app_model):
    client.force_login(staff)
    app_model.reply(text=_merge_answer(teas[:3]))

    response = client.post(OPTIMIZE, {"user": "alice"}, **htmx("memory-optimize"))

    page = response.content.decode()
    assert response.status_code == 200 and "Merge duplicates: dry run" in page
    assert "would merge 3 of the 4 memories of alice into 1" in page
    assert "<del>Likes green tea</del>" in page and "<ins>User likes green tea a lot</ins>" in page
    assert 'hx-post="/memories/optimize/apply/"' in page
    assert selectors.memories_active(user_pk=alice.pk).count() == 4
    assert not MemoryChange.objects.filter(action="merge").exists()


def test_applying_the_plan_merges_as_the_operator_and_reloads_the_list(client, staff, alice, teas, app_model):
    client.force_login(staff)
    app_model.reply(text=_merge_answer(teas[:3]))
    token = _token(client.post(OPTIMIZE, {"user": "alice"}, **htmx()).content.decode())

    response = client.post(APPLY, {"plan": token}, **htmx("memory-optimize"))

    assert response.status_code == 200 and "Duplicates merged" in response.content.decode()
    assert "memories-reload" in response["HX-Trigger"]
    live = list(selectors.memories_active(user_pk=alice.pk).values_list("text", flat=True))
    assert sorted(live) == ["Lives in Paris", "User likes green tea a lot"]
    head = MemoryChange.objects.get(action="merge", merge__isnull=True)
    assert (head.actor, head.actor_user, head.user) == ("operator", staff, alice)
    assert head.merged_sources.count() == 3
    assert len(app_model.requests) == 1  # Apply makes what was shown: the model is not asked again


def test_the_history_names_both_sides_and_its_revert_brings_the_three_back(
    client, staff, alice, teas, app_model
):
    client.force_login(staff)
    app_model.reply(text=_merge_answer(teas[:3]))
    client.post(APPLY, {"plan": _token(client.post(OPTIMIZE, {"user": "alice"}).content.decode())})
    merged = selectors.memories_active(user_pk=alice.pk).get(text="User likes green tea a lot")

    into = client.get(reverse("memory:history", args=[teas[0].memory_id])).content.decode()
    page = client.get(reverse("memory:history", args=[merged.memory_id])).content.decode()

    assert "Merged into" in into and merged.memory_id in into
    assert "Merged from" in page and all(m.memory_id in page for m in teas[:3])
    head = MemoryChange.objects.get(memory=merged)
    response = client.post(reverse("memory:revert", args=[head.pk]), **htmx())
    assert response.status_code == 200
    assert selectors.memories_active(user_pk=alice.pk).count() == 4


def test_a_plan_altered_expired_or_made_for_another_operator_is_refused(
    client, staff, operator, alice, teas, app_model
):
    client.force_login(staff)
    app_model.reply(text=_merge_answer(teas[:3]))
    token = _token(client.post(OPTIMIZE, {"user": "alice"}).content.decode())

    altered = client.post(APPLY, {"plan": token[:-3] + "abc"}, **htmx())
    client.force_login(operator)
    someone_elses = client.post(APPLY, {"plan": token})

    assert altered.status_code == 422 and "run the dry run again" in altered.content.decode()
    assert someone_elses.status_code == 422
    assert selectors.memories_active(user_pk=alice.pk).count() == 4


def test_an_operator_who_is_not_superuser_may_merge_for_people_but_not_for_a_superuser(
    client, operator, staff, alice, teas, remember, app_model
):
    remember(staff, "Likes coffee")
    client.force_login(operator)
    app_model.reply(text=_merge_answer())

    assert client.post(OPTIMIZE, {"user": "alice"}).status_code == 200
    assert client.post(OPTIMIZE, {"user": "ops"}).status_code == 404
    assert client.post(OPTIMIZE, {"user": "nobody"}).status_code == 404


def test_a_merge_whose_memory_changed_since_the_dry_run_is_reported_not_made(
    client, staff, alice, teas, app_model
):
    from memory_app import services

    client.force_login(staff)
    app_model.reply(text=_merge_answer(teas[:2], [teas[2], teas[3]], text="x"))
    token = _token(client.post(OPTIMIZE, {"user": "alice"}).content.decode())
    services.memory_delete(memory=teas[0], actor="person")

    page = client.post(APPLY, {"plan": token}).content.decode()

    assert "Not merged:" in page and "is deleted" in page
    assert selectors.memories_active(user_pk=alice.pk).count() == 2  # teas[1] and the second merge


def test_a_failed_model_request_is_reported_and_nothing_changes(client, staff, alice, teas):
    client.force_login(staff)  # the test settings' model answers nowhere

    plain = client.post(OPTIMIZE, {"user": "alice"})
    partial = client.post(OPTIMIZE, {"user": "alice"}, **htmx())

    assert plain.status_code == 502 and "could not be asked" in plain.content.decode()
    assert partial.status_code == 200 and 'role="alert"' in partial.content.decode()
    assert selectors.memories_active(user_pk=alice.pk).count() == 4


def test_with_the_offline_demo_model_the_duplicates_are_still_found(client, staff, alice, teas, demo_model):
    client.force_login(staff)

    page = client.post(OPTIMIZE, {"user": "alice"}).content.decode()
    client.post(APPLY, {"plan": _token(page)})

    live = sorted(selectors.memories_active(user_pk=alice.pk).values_list("text", flat=True))
    assert live == ["Likes green tea a lot", "Lives in Paris"]


def test_the_editor_offers_the_action_to_operators_for_the_person_shown(client, staff, alice, teas):
    client.force_login(staff)

    page = client.get(reverse("memory:list"), {"user": "alice"}).content.decode()

    assert 'action="/memories/optimize/?user=alice"' in page and 'id="memory-optimize"' in page


# --- the admin action ---------------------------------------------------------------------------
CHANGELIST = reverse("admin:memory_app_memory_changelist")


def _action(memories, **extra) -> dict:
    return {"action": "optimize_memories", "_selected_action": [m.pk for m in memories], **extra}


def test_the_admin_action_shows_the_dry_run_then_applies_it_as_an_operator_change(
    admin_client, admin_user, alice, teas, app_model
):
    app_model.reply(text=_merge_answer(teas[:3]))

    dry = admin_client.post(CHANGELIST, {**_action(teas[:1]), "index": 0})
    page = dry.content.decode()
    assert dry.status_code == 200 and "Merge duplicate memories of alice: dry run" in page
    assert "would merge 3 of the 4 memories" in page
    assert selectors.memories_active(user_pk=alice.pk).count() == 4

    applied = admin_client.post(CHANGELIST, _action(teas[:1], plan=_token(page), apply="yes"), follow=True)

    assert "Merged 3 memories of alice into 1." in applied.content.decode()
    head = MemoryChange.objects.get(action="merge", merge__isnull=True)
    assert (head.actor, head.actor_user, head.merged_sources.count()) == ("operator", admin_user, 3)
    assert len(app_model.requests) == 1


def test_the_admin_action_wants_the_memories_of_one_person(admin_client, bob, teas, remember, app_model):
    bobs = remember(bob, "Plays chess")

    response = admin_client.post(CHANGELIST, {**_action([teas[0], bobs]), "index": 0}, follow=True)

    assert "Select memories of one person" in response.content.decode()
    assert app_model.requests == []


def test_staff_without_the_change_permission_are_not_offered_the_admin_action(
    client, django_user_model, teas, app_model
):
    viewer = django_user_model.objects.create_user("viewer", password="pw-for-tests-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_memory"))
    client.force_login(viewer)

    page = client.get(CHANGELIST).content.decode()
    response = client.post(CHANGELIST, {**_action(teas[:1]), "index": 0})

    assert response.status_code in (200, 302) and "optimize_memories" not in page
    assert app_model.requests == [] and not MemoryChange.objects.filter(action="merge").exists()


def test_people_who_are_not_staff_never_reach_the_admin_action(client, alice, teas, app_model):
    client.force_login(alice)

    response = client.post(CHANGELIST, {**_action(teas[:1]), "index": 0})

    assert response.status_code == 302 and "/admin/login" in response["Location"]
    assert app_model.requests == []


def test_the_admin_shows_which_merge_a_merged_away_memorys_change_belongs_to(admin_client, alice, teas):
    from memory_app import services

    merged = services.memories_merge(
        user_pk=alice.pk, memory_ids=[m.memory_id for m in teas[:2]], text="x", topics=[], actor="operator"
    )
    head = MemoryChange.objects.get(memory=merged)
    part = MemoryChange.objects.get(memory=teas[0], action="merge")

    page = admin_client.get(reverse("admin:memory_app_memorychange_change", args=[part.pk])).content.decode()
    inline = admin_client.get(reverse("admin:memory_app_memory_change", args=[teas[0].pk])).content.decode()

    assert reverse("admin:memory_app_memorychange_change", args=[head.pk]) in page
    assert str(head) in inline
