"""The memory inspector and editor: pages, htmx partials, and who may see what."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from memory_app import services
from memory_app.models import Memory, MemoryChange

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str | None = None) -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target} if target else HTMX


@pytest.fixture
def tea(alice, remember):
    return remember(alice, "Drinks green tea", ["drinks"])


def memory_urls(memory: Memory) -> list[tuple[str, str]]:
    change = memory.changes.first()
    return [
        ("get", reverse("memory:item", args=[memory.memory_id])),
        ("get", reverse("memory:edit", args=[memory.memory_id])),
        ("post", reverse("memory:edit", args=[memory.memory_id])),
        ("post", reverse("memory:delete", args=[memory.memory_id])),
        ("post", reverse("memory:restore", args=[memory.memory_id])),
        ("get", reverse("memory:history", args=[memory.memory_id])),
        ("post", reverse("memory:revert", args=[change.pk])),
    ]


PAGE_URLS = [
    ("get", "memory:list"),
    ("post", "memory:add"),
    ("get", "memory:export"),
    ("post", "memory:import"),
]


def test_anonymous_visitors_are_sent_to_sign_in_from_every_url(client, tea):
    urls = memory_urls(tea) + [(method, reverse(name)) for method, name in PAGE_URLS]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_another_user_gets_404_for_every_url_of_alices_memory(client, bob, tea):
    client.force_login(bob)
    for method, url in memory_urls(tea):
        assert getattr(client, method)(url, {"text": "hacked"}, **HTMX).status_code == 404, url
    tea.refresh_from_db()
    assert tea.text == "Drinks green tea" and tea.changes.count() == 1


def test_another_user_cannot_open_alices_page_by_username(client, alice, bob, tea):
    client.force_login(bob)
    for method, name in PAGE_URLS:
        response = getattr(client, method)(reverse(name) + "?user=alice", {"text": "x", "user": "alice"})
        assert response.status_code == 404, name
    assert Memory.objects.filter(user=alice).count() == 1


def test_the_owner_sees_only_their_own_memories_newest_first(client, alice, bob, remember, tea):
    remember(bob, "Bob's secret")
    newer = remember(alice, "Lives in Paris", ["home"])
    client.force_login(alice)

    response = client.get(reverse("memory:list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Bob's secret" not in body and "Bob&#x27;s secret" not in body
    assert body.index(newer.text) < body.index(tea.text)
    assert 'id="memory-topics"' in body and "drinks" in body


def test_memory_text_is_escaped(client, alice, remember):
    remember(alice, "<script>alert(1)</script> likes <b>bold</b>", ["<i>x</i>"])
    client.force_login(alice)

    body = client.get(reverse("memory:list")).content.decode()

    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
    assert "<i>x</i>" not in body


def test_searching_returns_only_the_list_partial_for_htmx(client, alice, remember, tea):
    remember(alice, "Lives in Paris", ["home"])
    client.force_login(alice)

    response = client.get(reverse("memory:list"), {"q": "tea"}, **htmx("memory-list"))

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="memory-list"')
    assert "Drinks green tea" in body and "Lives in Paris" not in body
    assert "<html" not in body


def test_the_topic_chips_refresh_as_their_own_partial(client, alice, tea):
    client.force_login(alice)

    body = client.get(reverse("memory:list"), {"topic": "drinks"}, **htmx("memory-topics")).content.decode()

    assert body.lstrip().startswith('<fieldset id="memory-topics"')
    assert 'value="drinks" checked' in body


def test_the_list_is_paginated(client, alice, remember):
    for n in range(25):
        remember(alice, f"fact {n}")
    client.force_login(alice)

    first = client.get(reverse("memory:list")).content.decode()
    second = client.get(reverse("memory:list"), {"page": 2}, **htmx("memory-list")).content.decode()

    assert "fact 24" in first and "fact 4<" not in first and "Older" in first
    assert "fact 4<" in second and "fact 24" not in second
    assert client.get(reverse("memory:list"), {"page": "junk"}).status_code == 200


def test_adding_a_memory_returns_its_item_and_records_a_person_change(client, alice):
    client.force_login(alice)

    response = client.post(reverse("memory:add"), {"text": "Likes jazz", "topics": "music"}, **HTMX)

    assert response.status_code == 200 and "Likes jazz" in response.content.decode()
    assert "memories-changed" in response["HX-Trigger"]
    change = MemoryChange.objects.get()
    assert (change.actor, change.actor_user, change.user) == ("person", alice, alice)


def test_adding_an_empty_or_duplicate_memory_explains_why_in_the_form(client, alice, tea):
    client.force_login(alice)

    empty = client.post(reverse("memory:add"), {"text": "  "}, **HTMX)
    again = client.post(reverse("memory:add"), {"text": "drinks green TEA"}, **HTMX)

    assert empty.status_code == 422 and empty["HX-Retarget"] == "#memory-add-error"
    assert again.status_code == 422 and "already remembered" in again.content.decode()
    assert Memory.objects.count() == 1


def test_editing_in_place_returns_the_form_then_the_updated_item(client, alice, tea):
    client.force_login(alice)
    url = reverse("memory:edit", args=[tea.memory_id])

    form = client.get(url, **HTMX).content.decode()
    saved = client.post(url, {"text": "Drinks jasmine tea", "topics": "drinks, tea"}, **HTMX)

    assert "<textarea" in form and "Drinks green tea" in form
    assert saved.status_code == 200 and "Drinks jasmine tea" in saved.content.decode()
    tea.refresh_from_db()
    assert tea.topics == ["drinks", "tea"] and tea.changes.first().actor == "person"


def test_an_invalid_edit_shows_the_form_again_with_the_error(client, alice, tea):
    client.force_login(alice)

    response = client.post(reverse("memory:edit", args=[tea.memory_id]), {"text": ""}, **HTMX)

    assert response.status_code == 422
    assert "must not be empty" in response.content.decode() and "<textarea" in response.content.decode()


def test_deleting_shows_an_undo_that_restores_the_memory(client, alice, tea):
    client.force_login(alice)

    deleted = client.post(reverse("memory:delete", args=[tea.memory_id]), **HTMX)
    tea.refresh_from_db()
    assert tea.is_deleted and "Undo" in deleted.content.decode()
    assert reverse("memory:restore", args=[tea.memory_id]) in deleted.content.decode()

    restored = client.post(reverse("memory:restore", args=[tea.memory_id]), **HTMX)
    tea.refresh_from_db()
    assert not tea.is_deleted and "Drinks green tea" in restored.content.decode()
    assert [c.action for c in tea.changes.all()] == ["restore", "delete", "create"]


def test_the_history_shows_a_word_level_diff_the_actor_and_the_run_link(
    client, alice, tea, make_agent, fake_openai
):
    fake_openai.reply(
        tool_calls=[("update_memory", {"memory_id": tea.memory_id, "memory": "Drinks black tea"})]
    )
    fake_openai.reply(text="Updated.")
    output = make_agent("chat", enable_agentic_memory=True).run("I switched", user_id="alice", session_id="s")
    client.force_login(alice)

    panel = client.get(reverse("memory:history", args=[tea.memory_id]), **HTMX).content.decode()
    page = client.get(reverse("memory:history", args=[tea.memory_id])).content.decode()

    assert "<del>green</del>" in panel and "<ins>black</ins>" in panel
    assert "Model (tool call)" in panel and "Person" in panel
    assert f"/runs/{output.run_id}/" in panel
    assert "<html" not in panel and "<html" in page and "<del>green</del>" in page


def test_reverting_from_the_history_returns_the_panel_and_reloads_the_list(client, alice, tea):
    services.memory_update(memory=tea, text="Drinks black tea", actor="model")
    client.force_login(alice)

    response = client.post(reverse("memory:revert", args=[tea.changes.first().pk]), **HTMX)

    tea.refresh_from_db()
    assert tea.text == "Drinks green tea"
    assert response.status_code == 200 and "memories-reload" in response["HX-Trigger"]
    assert "reverts an earlier change" in response.content.decode()


def test_staff_open_any_users_page_and_their_changes_are_operator_changes(client, staff, alice, tea):
    client.force_login(staff)

    page = client.get(reverse("memory:list"), {"user": "alice"}).content.decode()
    client.post(
        reverse("memory:edit", args=[tea.memory_id]), {"text": "Drinks white tea", "topics": ""}, **HTMX
    )
    client.post(reverse("memory:add") + "?user=alice", {"text": "Plays chess"}, **HTMX)

    assert "Memories of alice" in page and "Drinks green tea" in page and "operator" in page
    assert '<datalist id="memory-users">' in page
    changes = MemoryChange.objects.exclude(action="create", actor="person")
    assert {(c.actor, c.actor_user, c.user) for c in changes} == {("operator", staff, alice)}
    assert Memory.objects.get(text="Plays chess").user == alice


def test_a_staff_selector_for_an_unknown_user_is_404(client, staff):
    client.force_login(staff)
    assert client.get(reverse("memory:list"), {"user": "nobody"}).status_code == 404


def test_export_downloads_json_that_import_reads_back_idempotently(client, alice, bob, tea):
    client.force_login(alice)
    exported = client.get(reverse("memory:export"))
    assert exported["Content-Disposition"].startswith('attachment; filename="memories-alice-')
    payload = exported.content

    client.force_login(bob)
    upload = lambda: SimpleUploadedFile("m.json", payload, content_type="application/json")  # noqa: E731
    first = client.post(reverse("memory:import"), {"file": upload()}, **HTMX)
    second = client.post(reverse("memory:import"), {"file": upload()}, **HTMX)

    assert "1 new" in first.content.decode() and "1 already there" in second.content.decode()
    assert [m.text for m in Memory.objects.filter(user=bob)] == ["Drinks green tea"]
    assert json.loads(payload)["memories"][0]["memory"] == "Drinks green tea"


def test_importing_something_that_is_not_json_is_a_clear_4xx(client, alice):
    client.force_login(alice)
    bad = SimpleUploadedFile("m.json", b"\x00not json", content_type="application/json")

    htmx_response = client.post(reverse("memory:import"), {"file": bad}, **HTMX)
    plain = client.post(reverse("memory:import"), {})

    assert htmx_response.status_code == 422 and "not valid JSON" in htmx_response.content.decode()
    assert plain.status_code == 422


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"memories": [{"memory": "Likes tea", "topics": 5}]}', "topics must be a list of strings"),
        (b'{"memories": [{"memory": "Likes tea", "topics": {"a": 1}}]}', "topics must be a list of strings"),
        (b'{"memories": [{"memory": "Likes tea", "topics": [["nested"]]}]}', "topics must be strings"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"memories": [{"memory": "x", "n": ' + b"1" * 5000 + b"}]}", "not valid JSON"),
    ],
    ids=["topics-int", "topics-object", "topics-nested", "deep-nesting", "huge-number"],
)
def test_an_import_of_malformed_memories_is_a_clear_4xx_and_stores_nothing(client, alice, payload, message):
    """Was: 500 when `topics` was not a list, or the JSON nested deeply."""
    client.force_login(alice)
    upload = SimpleUploadedFile("m.json", payload, content_type="application/json")

    response = client.post(reverse("memory:import"), {"file": upload}, **HTMX)

    assert response.status_code == 422, response.content[:200]
    assert message in response.content.decode()
    assert not Memory.objects.filter(user=alice).exists()
