"""/runs/: newest first, paginated, filtered; people see their own runs, staff see all."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import Run
from sessions_app.timeline.views import RUNS_PER_PAGE
from tests import factories

pytestmark = pytest.mark.django_db


def _run(user, session_id: str, text: str, *, status: str = "completed", days_ago: int = 0) -> Run:
    created = timezone.now() - timedelta(days=days_ago)
    return factories.run(factories.session(user, session_id), text, status=status, created_at=created)


def _listed(body: bytes) -> list[str]:
    return re.findall(r'<tr data-run="([^"]+)">', body.decode())


def test_people_see_only_their_own_runs_newest_first(client, alice, bob):
    old = _run(alice, "a1", "old question", days_ago=2)
    new = _run(alice, "a1", "new question")
    _run(bob, "b1", "bob's question")
    client.force_login(alice)
    body = client.get("/runs/").content
    assert _listed(body) == [new.run_id, old.run_id]
    assert b"bob&#x27;s question" not in body


def test_staff_see_everyones_runs_and_can_filter_by_user(client, alice, bob, staff):
    a = _run(alice, "a1", "alice asks")
    b = _run(bob, "b1", "bob asks")
    client.force_login(staff)
    assert set(_listed(client.get("/runs/").content)) == {a.run_id, b.run_id}
    assert _listed(client.get("/runs/?user=bob").content) == [b.run_id]


def test_a_person_cannot_widen_the_list_with_the_user_filter(client, alice, bob):
    a = _run(alice, "a1", "alice asks")
    _run(bob, "b1", "bob asks")
    client.force_login(alice)
    response = client.get("/runs/?user=bob")
    assert response.status_code == 200 and _listed(response.content) == [a.run_id]
    assert b'name="user"' not in response.content


def test_runs_filter_by_session_status_and_dates(client, alice):
    first = _run(alice, "s1", "one", days_ago=10)
    failed = _run(alice, "s1", "two", status="error", days_ago=3)
    other = _run(alice, "s2", "three")
    client.force_login(alice)
    assert _listed(client.get("/runs/?session=s1").content) == [failed.run_id, first.run_id]
    assert _listed(client.get("/runs/?status=error").content) == [failed.run_id]
    today = timezone.localdate()
    since = (today - timedelta(days=5)).isoformat()
    until = (today - timedelta(days=1)).isoformat()
    assert _listed(client.get(f"/runs/?date_from={since}").content) == [other.run_id, failed.run_id]
    assert _listed(client.get(f"/runs/?date_to={until}").content) == [failed.run_id, first.run_id]
    assert _listed(client.get(f"/runs/?date_from={since}&date_to={until}").content) == [failed.run_id]


def test_the_widest_dates_there_are_list_everything(client, alice):
    """Was: 500 for date_to=9999-12-31 (its next day does not exist)."""
    run = _run(alice, "s1", "one")
    client.force_login(alice)

    response = client.get("/runs/?date_from=0001-01-01&date_to=9999-12-31")

    assert response.status_code == 200
    assert _listed(response.content) == [run.run_id]


@pytest.mark.parametrize(
    "query", ["status=exploded", "date_from=yesterday", "date_from=2025-02-10&date_to=2025-02-01"]
)
def test_bad_filters_get_a_clear_400(client, alice, query):
    client.force_login(alice)
    response = client.get(f"/runs/?{query}")
    assert response.status_code == 400
    assert b'class="tl-error" role="alert"' in response.content


def test_the_list_is_paginated_and_keeps_its_filters(client, alice):
    runs = [_run(alice, "s1", f"question {i}") for i in range(RUNS_PER_PAGE + 3)]
    client.force_login(alice)
    first = client.get("/runs/?session=s1").content
    assert len(_listed(first)) == RUNS_PER_PAGE
    assert b'href="?session=s1&amp;page=2" rel="next"' in first
    second = client.get("/runs/?session=s1&page=2").content
    assert _listed(second) == [r.run_id for r in reversed(runs[:3])]
    assert client.get("/runs/?page=999").status_code == 200  # out of range: the last page
    assert client.get("/runs/?page=abc").status_code == 200


def test_each_run_links_to_its_page_and_its_session_timeline(client, alice):
    run = _run(alice, "s1", "hello")
    client.force_login(alice)
    body = client.get("/runs/").content.decode()
    assert f'href="/runs/{run.run_id}/"' in body and 'href="/sessions/s1/timeline/"' in body
