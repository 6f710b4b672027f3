"""Times on the chat page: each message's time, and the sidebar grouped by day."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions_app.models import AgentSession
from tests import factories

pytestmark = pytest.mark.django_db


GROUP_LABEL = re.compile(r'<h2 class="session-group-label"[^>]*>([^<]+)</h2>')


def _session(user, session_id: str, title: str, *, days_ago: int) -> AgentSession:
    session = factories.session(user, session_id, title=title)
    # auto_now would overwrite a saved value: an update sets the last activity.
    AgentSession.objects.filter(pk=session.pk).update(updated_at=timezone.now() - timedelta(days=days_ago))
    return session


def test_the_sidebar_groups_chats_by_day_in_order_with_months_last(client, alice, bob):
    long_ago = timezone.now() - timedelta(days=60)
    for session_id, title, days in [
        ("s-month", "Old plans", 60),
        ("s-today", "Fresh idea", 0),
        ("s-week", "Garden", 3),
        ("s-yesterday", "Lunch", 1),
        ("s-thirty", "Taxes", 20),
    ]:
        _session(alice, session_id, title, days_ago=days)
    _session(bob, "s-bob", "Bob's own", days_ago=0)
    client.force_login(alice)
    body = client.get(reverse("home")).content.decode()
    labels = GROUP_LABEL.findall(body)
    assert labels == ["Today", "Yesterday", "Previous 7 days", "Previous 30 days", f"{long_ago:%B %Y}"]
    ids = ["s-today", "s-yesterday", "s-week", "s-thirty", "s-month"]
    order = [body.index(f'id="session-{s}"') for s in ids]
    assert order == sorted(order)
    assert "Bob&#x27;s own" not in body and "Bob's own" not in body
    # Each group is a list named by its heading.
    assert 'aria-labelledby="session-group-1"' in body


def test_a_search_keeps_the_groups(client, alice):
    _session(alice, "s-today", "Garden today", days_ago=0)
    _session(alice, "s-week", "Garden last week", days_ago=4)
    _session(alice, "s-other", "Taxes", days_ago=4)
    client.force_login(alice)
    body = client.get(reverse("sessions:list"), {"q": "garden"}, HTTP_HX_REQUEST="true").content.decode()
    assert GROUP_LABEL.findall(body) == ["Today", "Previous 7 days"]
    assert "Taxes" not in body


def test_an_entry_carries_its_full_title_on_hover(client, alice):
    title = "A rather long title about planning the spring garden, the beds, and the compost heap"
    _session(alice, "s-long", title, days_ago=0)
    factories.session(alice, "s-untitled", title="")
    factories.run(AgentSession.objects.get(session_id="s-untitled"), "My name is Sarah and I like long walks")
    client.force_login(alice)
    body = client.get(reverse("home")).content.decode()
    assert f'title="{title}">{title}</a>' in body
    assert 'title="My name is Sarah and I like long walks">My name is Sarah and I…</a>' in body


def test_both_messages_of_a_finished_run_show_their_time_with_the_exact_time_on_hover(client, alice):
    session = factories.session(alice, "s-one", title="Times")
    run = factories.run(session, "Hello", content="Hi there.", ended_at=timezone.now())
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=["s-one"])).content.decode()
    times = re.findall(
        r'<time class="msg-time" datetime="([^"]+)" title="([^"]+)" data-tz="UTC">([^<]+)</time>', body
    )
    assert [t[0] for t in times] == [run.created_at.isoformat(), run.ended_at.isoformat()]
    assert all(t[2] == "just now" for t in times)
    assert times[0][1].endswith(" UTC") and f"{run.created_at:%Y}" in times[0][1]


def test_a_reply_still_streaming_has_no_time_yet(client, alice):
    session = factories.session(alice, "s-one", title="Times")
    factories.run(session, "Hello", status="running")
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=["s-one"])).content.decode()
    assert body.count('<time class="msg-time"') == 1  # the user's message only
