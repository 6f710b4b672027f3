"""Stored (and echoed) script payloads render inert on every page that shows them."""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from memory_app.models import Memory

from .hostile import ALL, PAYLOADS, Hostile, hostile_build, live_payloads

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def hostile(alice, make_agent, fake_openai) -> Hostile:
    return hostile_build(user=alice, make_agent=make_agent, fake_openai=fake_openai)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    if not response.streaming:
        return response.content.decode()
    content = response.streaming_content
    if hasattr(content, "__aiter__"):

        async def collect() -> bytes:
            return b"".join([chunk async for chunk in content])

        return async_to_sync(collect)().decode()
    return b"".join(content).decode()


def test_the_payloads_were_really_stored(hostile, alice):
    """The other tests mean something only if every place holds the payloads."""
    assert hostile.run.content.startswith(ALL)
    assert hostile.session.title == ALL[:200]
    assert PAYLOADS[1] in hostile.failed.error
    assert Memory.objects.filter(user=alice).count() == len(PAYLOADS)
    assert PAYLOADS[0] in hostile.memory.text and PAYLOADS[0][:50] in hostile.memory.topics
    assert PAYLOADS[0] in str(hostile.event.payload)


def test_the_checker_finds_a_live_payload():
    assert live_payloads(f"<p>{PAYLOADS[1]}</p>")
    assert live_payloads('<a href="javascript:window.__xss=1">x</a>')
    assert live_payloads(f'<div title="{PAYLOADS[3]}">')
    assert not live_payloads("<p>&lt;script&gt;window.__xss=1&lt;/script&gt;</p>")


@pytest.mark.parametrize("htmx", [False, True], ids=["full page", "htmx"])
def test_every_page_showing_the_payloads_renders_them_inert(hostile, alice, htmx):
    client = _client(alice)
    for url in hostile.pages():
        response = client.get(url, headers=HTMX if htmx else {})
        # 400: a filter form refusing the payload, and echoing it back
        assert response.status_code in (200, 302, 400), (url, response.status_code)
        assert not live_payloads(_text(response)), url


def test_staff_views_and_the_admin_render_the_payloads_inert(hostile, staff):
    client = _client(staff)
    urls = [
        *hostile.pages(),
        f"/memories/?user=alice&q={ALL[:20]}",
        "/admin/sessions_app/agentsession/",
        f"/admin/sessions_app/agentsession/{hostile.session.pk}/change/",
        "/admin/sessions_app/run/",
        f"/admin/sessions_app/run/{hostile.run.pk}/change/",
        "/admin/memory_app/memory/",
        f"/admin/memory_app/memory/{hostile.memory.pk}/change/",
        "/admin/memory_app/memorychange/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 302, 400), (url, response.status_code)
        assert not live_payloads(_text(response)), url


def test_the_streamed_reply_and_its_replay_carry_no_live_markup(hostile, alice, fake_openai):
    client = _client(alice)
    replay = _text(client.get(f"/chat/runs/{hostile.run.run_id}/stream/"))
    assert "__xss" in replay  # the payload text is there, escaped
    assert not live_payloads(replay)

    fake_openai.reply(text=ALL)
    sent = client.post(f"/chats/{hostile.session.session_id}/messages/", {"message": ALL}, headers=HTMX)
    assert sent.status_code == 200 and not live_payloads(sent.content.decode())
    run_id = hostile.session.runs.order_by("-pk").first().run_id
    streamed = _text(client.get(f"/chat/runs/{run_id}/stream/"))
    assert "event: final" in streamed or "final" in streamed
    assert not live_payloads(streamed)


def test_a_rename_echoes_the_title_inert(hostile, alice):
    response = _client(alice).post(
        f"/chats/{hostile.session.session_id}/rename/", {"title": PAYLOADS[3]}, headers=HTMX
    )
    assert response.status_code == 200
    assert not live_payloads(response.content.decode())


def test_a_refused_memory_edit_echoes_its_input_inert(hostile, alice):
    response = _client(alice).post(
        f"/memories/{hostile.memory.memory_id}/edit/", {"text": PAYLOADS[1] * 200}, headers=HTMX
    )
    assert response.status_code == 422
    assert not live_payloads(response.content.decode())


def test_merging_the_payloads_shows_them_inert_in_the_plan_the_result_and_the_history(
    hostile, alice, staff, app_model
):
    ids = list(Memory.objects.filter(user=alice).values_list("memory_id", flat=True)[:2])
    client = _client(staff)
    for _ in range(2):  # the editor's dry run, then the admin's
        app_model.reply(
            text=json.dumps({"merges": [{"ids": ids, "memory": PAYLOADS[1], "topics": [PAYLOADS[3]]}]})
        )
    pks = list(Memory.objects.filter(memory_id__in=ids).values_list("pk", flat=True))

    dry = client.post("/memories/optimize/", {"user": "alice"})
    admin = client.post(
        "/admin/memory_app/memory/", {"action": "optimize_memories", "_selected_action": pks, "index": 0}
    )
    token = re.search(r'name="plan" value="([^"]+)"', dry.content.decode()).group(1)
    applied = client.post("/memories/optimize/apply/", {"plan": token}, headers=HTMX)
    merged = Memory.objects.get(user=alice, deleted_at__isnull=True, text=PAYLOADS[1])
    histories = [client.get(f"/memories/{memory_id}/history/") for memory_id in [*ids, merged.memory_id]]

    for response in (dry, admin, applied, *histories):
        assert response.status_code == 200 and "__xss" in _text(response)
        assert not live_payloads(_text(response)), response.request["PATH_INFO"]
