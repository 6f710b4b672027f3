"""/settings/data/: what is stored about the signed-in person, a download of all of it, and erasure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from agentapp.accounts.models import Preferences
from apikeys.models import ApiKey
from apikeys.services import apikey_create
from memory_app.models import Memory
from memory_app.services import memory_create
from sessions_app import services
from sessions_app.models import AgentSession, Run
from tests import factories
from tests.conftest import PASSWORD
from tests.live import sign_in

pytestmark = pytest.mark.django_db


def _chat(username: str, session_id: str, text: str) -> Run:
    session = services.session_get_or_create_for_run(session_id=session_id, username=username)
    return factories.finished_run(session, text, f"re: {text}")


@pytest.fixture
def stored(alice, bob):
    _chat("alice", "alice-trip", "Plan Lisbon")
    _chat("alice", "alice-trip", "And Porto?")
    _chat("alice", "alice-work", "Draft a memo")
    _chat("bob", "bob-only", "Bob's secret plan")
    memory_create(user_pk=alice.pk, text="Alice likes trains", topics=["travel"], actor="person")
    memory_create(user_pk=bob.pk, text="Bob hates trains", topics=[], actor="person")


def test_the_page_counts_only_the_persons_own_data(client, alice, stored):
    client.force_login(alice)
    body = client.get("/settings/data/").content.decode()
    assert (
        'id="count-sessions">2<' in body and 'id="count-runs">3<' in body and 'id="count-memories">1<' in body
    )


def test_the_download_is_the_persons_whole_export_as_a_json_file(client, alice, stored):
    client.force_login(alice)
    response = client.get("/settings/data/export.json")

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(response.content)
    assert data["user_id"] == "alice"
    assert sorted(s["session_id"] for s in data["sessions"]) == ["alice-trip", "alice-work"]
    assert [m["text"] for m in data["memories"]] == ["Alice likes trains"]
    assert "Bob" not in response.content.decode()


def test_the_export_holds_every_version_of_every_turn_and_says_which_is_shown(client, alice, stored):
    trip = AgentSession.objects.get(session_id="alice-trip")
    first, second = trip.runs.order_by("id")
    edited = services.run_edit(run=second, input="And Sintra?")
    regenerated = services.run_regenerate(run=first)  # shown last: the thread shown is this one alone
    client.force_login(alice)
    data = json.loads(client.get("/settings/data/export.json").content)
    runs = {r["input"]: r for s in data["sessions"] if s["session_id"] == "alice-trip" for r in s["runs"]}
    assert len([r for s in data["sessions"] for r in s["runs"] if s["session_id"] == "alice-trip"]) == 4
    assert runs["And Porto?"]["parent_run_id"] == runs["And Sintra?"]["parent_run_id"] == first.run_id
    assert (
        runs["And Porto?"]["version"],
        runs["And Sintra?"]["version"],
        runs["And Sintra?"]["versions"],
    ) == (1, 2, 2)
    shown = [
        r["run_id"]
        for s in data["sessions"]
        if s["session_id"] == "alice-trip"
        for r in s["runs"]
        if r["shown"]
    ]
    assert shown == [regenerated.run_id] and edited.run_id in {r["run_id"] for r in runs.values()}
    assert runs["And Porto?"]["messages"][-1]["content"] == "re: And Porto?"  # a version's reply kept


def test_erasure_needs_the_username_typed_and_loses_nothing_otherwise(client, alice, stored):
    client.force_login(alice)
    response = client.post("/settings/data/erase/", {"confirm": "ali"})

    assert response.status_code == 422 and "Type your username exactly" in response.content.decode()
    assert AgentSession.objects.filter(user=alice).count() == 2
    assert Memory.objects.filter(user=alice).count() == 1


def test_erasure_deletes_the_persons_chats_and_memories_and_keeps_the_account_and_keys(
    client, alice, bob, stored
):
    apikey_create(user=alice, name="laptop")
    client.force_login(alice)
    response = client.post("/settings/data/erase/", {"confirm": "alice"}, follow=True)

    body = " ".join(response.content.decode().split())
    assert response.status_code == 200 and 'id="erased"' in body
    assert "2 chats, 3 runs" in body and 'id="count-sessions">0<' in body
    assert (
        not AgentSession.objects.filter(user=alice).exists()
        and not Memory.objects.filter(user=alice).exists()
    )
    assert AgentSession.objects.filter(user=bob).count() == 1 and Memory.objects.filter(user=bob).count() == 1
    assert ApiKey.objects.filter(user=alice).count() == 1
    assert client.get("/settings/data/").status_code == 200  # still signed in: the account stays


def test_in_a_browser_a_person_downloads_then_erases_their_data(page, alice, stored):
    sign_in(page, "alice", PASSWORD)
    page.click("text=Your data")
    assert page.locator("#count-runs").inner_text() == "3"

    with page.expect_download() as download:
        page.click("#export-link")
    assert json.loads(Path(download.value.path()).read_text())["user_id"] == "alice"

    page.fill("#erase-form input[name=confirm]", "alice")
    page.click("#erase-form button[type=submit]")
    page.wait_for_selector("#erased")
    assert page.locator("#count-runs").inner_text() == "0"
    assert not Run.objects.filter(user=alice).exists()


def test_erasing_redirects_and_the_page_after_says_what_went_once(client, alice):
    session = factories.session(alice, "s1")
    factories.run(session, "hello")
    memory_create(user_pk=alice.pk, text="Alice likes trains", actor="person")
    client.force_login(alice)
    response = client.post(reverse("accounts:data-erase"), {"confirm": "alice"})
    assert response.status_code == 303 and response.url == reverse("accounts:data")
    body = " ".join(client.get(reverse("accounts:data")).content.decode().split())
    assert 'id="erased"' in body and "1 chat, 1 run" in body and "1 memory are gone" in body
    assert 'id="erased"' not in client.get(reverse("accounts:data")).content.decode()
    assert not Memory.objects.filter(user=alice).exists()


def test_preferences_stay_when_a_person_erases_their_data(client, alice):
    client.force_login(alice)
    client.post(reverse("theme"), {"theme": "dark"})
    client.post(reverse("accounts:data-erase"), {"confirm": "alice"})
    assert Preferences.objects.get(user=alice).theme == "dark"


def test_the_download_says_when_each_fact_was_true_and_what_replaced_it(client, alice, stored):
    from memory_app.services import memory_supersede

    trains = Memory.objects.get(user=alice)
    planes = memory_supersede(memory=trains, text="Alice likes planes now", actor="person")
    client.force_login(alice)

    data = json.loads(client.get("/settings/data/export.json").content)

    by_text = {m["text"]: m for m in data["memories"]}
    old, new = by_text["Alice likes trains"], by_text["Alice likes planes now"]
    assert old["valid_to"] is not None and old["superseded_by"] == planes.memory_id
    assert new["valid_to"] is None and new["superseded_by"] is None and new["valid_from"] == old["valid_to"]
