"""Facts over time in the memory editor: no longer true (and its undo), past facts with their
interval, a memory's earlier versions, made current again; ownership and operators."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from memory_app import services
from memory_app.models import Memory, MemoryChange
from sessions_app import services as session_services

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
JAN_10 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
MAR_2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MAY_2 = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
DASH = "\N{EN DASH}"  # between the dates of an interval


def htmx(target: str | None = None) -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target} if target else HTMX


def true_since(memory: Memory, when: datetime) -> Memory:
    Memory.objects.filter(pk=memory.pk).update(valid_from=when)
    memory.refresh_from_db()
    return memory


@pytest.fixture
def lisbon(alice, remember):
    return true_since(remember(alice, "Lives in Lisbon", ["home"]), JAN_10)


@pytest.fixture
def porto(lisbon):
    """Lisbon replaced by Porto on 2 May 2026, by the model in a run."""
    session = session_services.session_create(user=lisbon.user, title="Moving")
    run = session_services.run_create(session=session, input="I moved to Porto")
    return services.memory_supersede(
        memory=lisbon, text="Lives in Porto", actor=MemoryChange.Actor.MODEL, run_pk=run.pk, valid_from=MAY_2
    )


def expire_change(memory: Memory) -> MemoryChange:
    return memory.changes.get(action=MemoryChange.Action.EXPIRE)


# --- no longer true, and its undo -------------------------------------------------------------
def test_no_longer_true_closes_the_memory_and_answers_with_an_undo(client, alice, lisbon):
    client.force_login(alice)

    response = client.post(reverse("memory:expire", args=[lisbon.memory_id]), **HTMX)

    lisbon.refresh_from_db()
    assert response.status_code == 200 and lisbon.valid_to is not None and not lisbon.is_current
    change = expire_change(lisbon)
    assert (change.actor, change.actor_user) == (MemoryChange.Actor.PERSON, alice)
    body = response.content.decode()
    assert "No longer true" in body and "Lives in Lisbon" in body
    assert f'hx-post="{reverse("memory:revert", args=[change.pk])}"' in body and ">Undo<" in body
    assert "memories-changed" in response["HX-Trigger"]


def test_undo_in_the_toast_reverts_the_expiry_and_returns_the_current_item(client, alice, lisbon):
    client.force_login(alice)
    client.post(reverse("memory:expire", args=[lisbon.memory_id]), **HTMX)
    change = expire_change(lisbon)

    response = client.post(reverse("memory:revert", args=[change.pk]), **htmx(f"memory-{lisbon.memory_id}"))

    lisbon.refresh_from_db()
    assert response.status_code == 200 and lisbon.is_current
    body = response.content.decode()
    assert body.lstrip().startswith('<li class="mem-item"') and "mem-toast" not in body
    assert ">No longer true</button>" in body and "since" in body
    reopen = lisbon.changes.get(action=MemoryChange.Action.REOPEN)
    assert reopen.reverts == change and reopen.actor_user == alice
    assert "memories-changed" in response["HX-Trigger"]


def test_an_undo_that_cannot_be_made_says_why_in_the_toast(client, alice, lisbon):
    client.force_login(alice)
    client.post(reverse("memory:expire", args=[lisbon.memory_id]), **HTMX)
    change = expire_change(lisbon)
    services.memory_create(user_pk=alice.pk, text="Lives in Lisbon", actor="person")  # current again

    response = client.post(reverse("memory:revert", args=[change.pk]), **htmx(f"memory-{lisbon.memory_id}"))

    assert response.status_code == 409
    assert "identical memory is current" in response.content.decode()
    assert "mem-toast" in response.content.decode()
    lisbon.refresh_from_db()
    assert not lisbon.is_current


def test_closing_a_memory_that_is_not_current_is_a_clear_conflict_not_a_500(client, alice, lisbon):
    client.force_login(alice)
    client.post(reverse("memory:expire", args=[lisbon.memory_id]), **HTMX)

    again = client.post(reverse("memory:expire", args=[lisbon.memory_id]), **HTMX)
    plain = client.post(reverse("memory:expire", args=[lisbon.memory_id]))

    assert again.status_code == 409
    assert "no longer current" in again.content.decode() and 'role="alert"' in again.content.decode()
    assert plain.status_code == 409 and "no longer current" in plain.content.decode()
    assert lisbon.changes.filter(action=MemoryChange.Action.EXPIRE).count() == 1


def test_closing_a_deleted_memory_asks_to_restore_it_first(client, alice, lisbon):
    services.memory_delete(memory=lisbon, actor="person")
    client.force_login(alice)

    response = client.post(reverse("memory:expire", args=[lisbon.memory_id]), **HTMX)

    assert response.status_code == 409 and "restore it first" in response.content.decode()
    lisbon.refresh_from_db()
    assert lisbon.valid_to is None


def test_without_htmx_no_longer_true_redirects_to_the_history(client, alice, lisbon):
    client.force_login(alice)

    response = client.post(reverse("memory:expire", args=[lisbon.memory_id]))

    assert response.status_code == 302
    assert response.url == reverse("memory:history", args=[lisbon.memory_id])
    lisbon.refresh_from_db()
    assert lisbon.valid_to is not None


# --- the list: current facts with their date; past facts on request -------------------------------
def test_the_list_shows_current_facts_with_their_date_and_past_ones_only_when_asked(
    client, alice, remember, porto
):
    tennis = true_since(remember(alice, "Plays tennis on Sundays"), MAR_2)
    services.memory_expire(memory=tennis, actor="person")
    client.force_login(alice)

    now = client.get(reverse("memory:list")).content.decode()
    with_past = client.get(reverse("memory:list"), {"past": "1"}).content.decode()

    assert "Lives in Porto" in now and "since <time" in now
    assert re.search(r'since <time datetime="[^"]+">2026-05-02</time>', now)
    assert "Lives in Lisbon" not in now and "Plays tennis" not in now and 'id="memory-past"' not in now
    past = with_past[with_past.index('id="memory-past"') :]
    lisbon_item = past[past.index("Lives in Lisbon") : past.index("</li>", past.index("Lives in Lisbon"))]
    assert re.search(rf">2025-01-10</time> {DASH} <time[^>]*>2026-05-02</time>", lisbon_item)
    assert "replaced by:" in lisbon_item and reverse("memory:history", args=[porto.memory_id]) in lisbon_item
    assert "Lives in Porto" in lisbon_item
    tennis_item = past[past.index("Plays tennis") :]
    assert "no longer true" in tennis_item and ">2026-03-02</time>" in tennis_item
    assert "Make current again" in past and 'name="past" value="1" checked' in with_past
    assert "1 memory" in with_past  # the count is of current facts


def test_the_past_facts_refresh_as_their_own_partial_and_follow_the_search(client, alice, remember, porto):
    client.force_login(alice)

    part = client.get(reverse("memory:list"), {"past": "1"}, **htmx("memory-past")).content.decode()
    none = client.get(reverse("memory:list"), {"past": "1", "q": "tennis"}, **htmx("memory-past"))

    assert part.lstrip().startswith('<section id="memory-past"') and "Lives in Lisbon" in part
    assert "<html" not in part
    assert "Lives in Lisbon" not in none.content.decode() and "No past fact matches" in none.content.decode()


def test_making_a_past_fact_current_again_from_the_list_returns_its_item_and_reloads(client, alice, lisbon):
    services.memory_expire(memory=lisbon, actor="person")
    client.force_login(alice)

    response = client.post(
        reverse("memory:reopen", args=[lisbon.memory_id]), **htmx(f"past-memory-{lisbon.memory_id}")
    )

    lisbon.refresh_from_db()
    assert response.status_code == 200 and lisbon.is_current
    assert ">No longer true</button>" in response.content.decode()
    assert "memories-reload" in response["HX-Trigger"]
    assert lisbon.changes.first().action == MemoryChange.Action.REOPEN


# --- history: earlier versions, what replaced a closed memory, and the buttons -------------------
def test_the_history_lists_the_versions_a_memory_replaced_with_who_replaced_them(client, alice, porto):
    berlin = services.memory_supersede(memory=porto, text="Lives in Berlin", actor="person", actor_user=alice)
    client.force_login(alice)

    panel = client.get(reverse("memory:history", args=[berlin.memory_id]), **HTMX).content.decode()

    versions = panel[panel.index("Earlier versions") :]
    assert versions.index("Lives in Porto") < versions.index("Lives in Lisbon")
    porto_part = versions[versions.index("Lives in Porto") : versions.index("Lives in Lisbon")]
    lisbon_part = versions[versions.index("Lives in Lisbon") :]
    assert "replaced by this memory" in porto_part and "Person" in porto_part and "(alice)" in porto_part
    assert f">2026-05-02</time> {DASH} <time" in porto_part
    assert "Undo this replacement" in porto_part  # Berlin is current: the last replacement can be undone
    lisbon_change = Memory.objects.get(text="Lives in Lisbon").changes.get(action="supersede")
    assert "Model (tool call)" in lisbon_part and f"/runs/{lisbon_change.run.run_id}/" in lisbon_part
    assert f">2025-01-10</time> {DASH} <time" in lisbon_part
    assert reverse("memory:revert", args=[lisbon_change.pk]) not in lisbon_part  # Porto is closed
    assert "True since" in panel


def test_the_history_of_a_closed_memory_says_what_replaced_it_and_offers_both_ways_back(
    client, alice, lisbon, porto
):
    client.force_login(alice)
    change = lisbon.changes.get(action=MemoryChange.Action.SUPERSEDE)

    page = client.get(reverse("memory:history", args=[lisbon.memory_id])).content.decode()

    validity = page[page.index("mem-validity-past") :]
    assert "replaced by" in validity and reverse("memory:history", args=[porto.memory_id]) in validity
    assert f'action="{reverse("memory:revert", args=[change.pk])}"' in validity
    assert "Undo this replacement" in validity and "Make current again" in validity
    assert reverse("memory:reopen", args=[lisbon.memory_id]) in validity


def test_undo_this_replacement_makes_the_old_fact_current_and_deletes_the_new_one(
    client, alice, lisbon, porto
):
    client.force_login(alice)
    change = lisbon.changes.get(action=MemoryChange.Action.SUPERSEDE)

    response = client.post(reverse("memory:revert", args=[change.pk]), **HTMX)

    lisbon.refresh_from_db()
    porto.refresh_from_db()
    assert response.status_code == 200 and lisbon.is_current and porto.is_deleted
    assert "memories-reload" in response["HX-Trigger"]
    assert "Lives in Lisbon" in response.content.decode() and "True since" in response.content.decode()


def test_an_expired_memory_is_made_current_again_from_its_history(client, alice, lisbon):
    services.memory_expire(memory=lisbon, actor="person")
    client.force_login(alice)

    panel = client.get(reverse("memory:history", args=[lisbon.memory_id]), **HTMX).content.decode()
    response = client.post(reverse("memory:reopen", args=[lisbon.memory_id]), **HTMX)

    assert "no longer true" in panel and "Make current again" in panel
    lisbon.refresh_from_db()
    assert response.status_code == 200 and lisbon.is_current
    assert 'class="mem-history-panel"' in response.content.decode()
    assert "True since" in response.content.decode()


def test_making_current_again_when_the_same_fact_is_current_is_a_clear_conflict(client, alice, lisbon):
    services.memory_expire(memory=lisbon, actor="person")
    services.memory_create(user_pk=alice.pk, text="Lives in Lisbon", actor="person")
    client.force_login(alice)

    panel = client.post(reverse("memory:reopen", args=[lisbon.memory_id]), **HTMX)
    plain = client.post(reverse("memory:reopen", args=[lisbon.memory_id]))

    assert panel.status_code == 409 and "identical memory is current already" in panel.content.decode()
    assert 'role="alert"' in panel.content.decode()
    assert plain.status_code == 409
    lisbon.refresh_from_db()
    assert not lisbon.is_current


# --- who may ---------------------------------------------------------------------------------
def test_another_person_gets_404_and_changes_nothing(client, bob, lisbon, porto):
    client.force_login(bob)
    change = lisbon.changes.get(action=MemoryChange.Action.SUPERSEDE)

    for url in (
        reverse("memory:expire", args=[porto.memory_id]),
        reverse("memory:reopen", args=[lisbon.memory_id]),
        reverse("memory:revert", args=[change.pk]),
    ):
        assert client.post(url, **HTMX).status_code == 404, url
    assert client.get(reverse("memory:history", args=[porto.memory_id])).status_code == 404
    assert "Lives in Lisbon" not in client.get(reverse("memory:list"), {"past": "1"}).content.decode()
    assert client.get(reverse("memory:list"), {"past": "1", "user": "alice"}).status_code == 404
    porto.refresh_from_db()
    lisbon.refresh_from_db()
    assert porto.is_current and not lisbon.is_current


def test_staff_close_and_reopen_for_a_person_as_operators(client, staff, alice, lisbon):
    client.force_login(staff)

    page = client.get(reverse("memory:list"), {"user": "alice", "past": "1"}).content.decode()
    client.post(reverse("memory:expire", args=[lisbon.memory_id]), **HTMX)
    past = client.get(reverse("memory:list"), {"user": "alice", "past": "1"}, **htmx("memory-past"))
    client.post(reverse("memory:reopen", args=[lisbon.memory_id]), **HTMX)

    assert "Memories of alice" in page and "No past facts yet" in page
    assert "Lives in Lisbon" in past.content.decode()
    lisbon.refresh_from_db()
    assert lisbon.is_current
    changes = lisbon.changes.filter(action__in=["expire", "reopen"])
    assert {(c.action, c.actor, c.actor_user) for c in changes} == {
        ("expire", MemoryChange.Actor.OPERATOR, staff),
        ("reopen", MemoryChange.Actor.OPERATOR, staff),
    }


# --- the chat's memory panel ------------------------------------------------------------------
def test_the_chats_memory_panel_shows_current_facts_and_links_to_past_ones(client, alice, porto):
    session = session_services.session_create(user=alice, title="Thread")
    client.force_login(alice)

    body = client.get(f"/chats/{session.session_id}/").content.decode()

    panel = body[body.index('id="memory-panel"') :]
    panel = panel[: panel.index("</aside>")]
    assert "Lives in Porto" in panel and "Lives in Lisbon" not in panel
    assert f'href="{reverse("memory:list")}?past=1"' in panel and ">past facts</a>" in panel


def test_a_past_fact_whose_replacement_was_deleted_says_so(client, alice, lisbon, porto):
    services.memory_delete(memory=porto, actor="person")
    client.force_login(alice)

    past = client.get(reverse("memory:list"), {"past": "1"}, **htmx("memory-past")).content.decode()

    item = past[past.index(f'id="past-memory-{lisbon.memory_id}"') :]
    assert "replaced by:" in item and "Lives in Porto" in item and "badge-deleted" in item
