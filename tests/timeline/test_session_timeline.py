"""/sessions/<session_id>/timeline/: runs on one axis, tokens per turn, summary updates marked."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions_app.models import Run, RunEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_turns(make_agent, fake_openai, alice) -> list[Run]:
    agent = make_agent("chat")
    ids = []
    for text in ("first", "second", "third"):
        fake_openai.reply(text=f"reply to {text} " * 5)
        ids.append(agent.run(text, user_id="alice", session_id="thread").run_id)
    return [Run.objects.get(run_id=run_id) for run_id in ids]


def test_the_sessions_runs_are_drawn_in_order_and_linked(client, alice, three_turns):
    client.force_login(alice)
    body = client.get("/sessions/thread/timeline/").content.decode()
    assert re.findall(r'<li class="tl-row[^"]*" data-run="([^"]+)">', body) == [r.run_id for r in three_turns]
    for run in three_turns:
        assert f'href="/runs/{run.run_id}/"' in body
    lefts = [float(x) for x in re.findall(r'class="tl-bar" style="left:([\d.]+)%', body)]
    assert lefts == sorted(lefts) and lefts[0] == 0


def test_the_chart_has_an_input_and_an_output_bar_per_turn(client, alice, three_turns):
    client.force_login(alice)
    body = client.get("/sessions/thread/timeline/").content.decode()
    chart = re.search(r'<svg class="chart" id="token-chart".*?</svg>', body, re.S).group(0)
    titles = re.findall(r"<title>turn (\d+): (\d+) (in|out)put tokens</title>", chart)
    expected = []
    for turn, run in enumerate(three_turns, start=1):
        expected += [(str(turn), str(run.input_tokens), "in"), (str(turn), str(run.output_tokens), "out")]
    assert titles == expected
    assert all(run.input_tokens > 0 for run in three_turns)
    assert 'class="marker"' not in chart


def test_summary_updates_are_marked_on_the_turn_that_recorded_them(client, alice, three_turns):
    now = timezone.now()
    RunEvent.objects.create(
        run=three_turns[1],
        kind="summary",
        name="summary",
        started_at=now,
        ended_at=now,
        payload={"run_ids": [r.run_id for r in three_turns[:2]]},
    )
    client.force_login(alice)
    body = client.get("/sessions/thread/timeline/").content.decode()
    assert re.findall(r"<title>summary updated after turn (\d+)</title>", body) == ["2"]
    marked = re.findall(r'data-run="([^"]+)">(?:(?!</li>).)*summary-mark', body, re.S)
    assert marked == [three_turns[1].run_id]


def test_an_empty_session_has_a_page_too(client, alice):
    from sessions_app.services import session_create

    session = session_create(user=alice, title="Nothing yet")
    client.force_login(alice)
    response = client.get(f"/sessions/{session.session_id}/timeline/")
    assert response.status_code == 200 and b"No runs yet." in response.content


def test_versions_of_a_turn_are_marked_with_the_one_not_shown_said(client, alice, three_turns):
    from sessions_app import services

    first, second, third = three_turns
    again = services.run_regenerate(run=third)
    client.force_login(alice)
    body = client.get("/sessions/thread/timeline/").content.decode()
    rows = dict(re.findall(r'data-run="([^"]+)">(.*?)</li>', body, re.S))
    assert "version 1/2, not shown" in rows[third.run_id]
    assert "version 2/2</span>" in rows[again.run_id]
    assert "version" not in rows[first.run_id]

    page = client.get(f"/runs/{third.run_id}/").content.decode()
    version = re.search(r'id="run-version">(.*?)</dd>', page, re.S).group(1)
    assert version.startswith("1 of 2") and f'href="/runs/{again.run_id}/"' in version
    assert "not the version the chat shows" in version
    parent = re.search(r'id="run-parent">(.*?)</dd>', page, re.S).group(1)
    assert f'href="/runs/{second.run_id}/"' in parent


# A long session's timeline numbers its runs as turns of the whole session
def test_the_timeline_of_a_250_run_session_numbers_the_runs_it_shows_from_their_place_in_the_session(
    client, alice
):
    session = factories.session(alice, "long-thread")
    for i in range(250):
        factories.run(session, f"message {i + 1}")
    client.force_login(alice)
    body = client.get(reverse("runs:session_timeline", args=["long-thread"])).content.decode()
    shown = re.findall(r'<span class="tl-label" title="message (\d+)">(\d+)\. ', body)
    assert shown, "no rows"
    assert all(label == number for number, label in shown), shown[:3]
    first = shown[0][1]
    assert f'<ol class="tl-rows" id="session-timeline" start="{first}">' in body
    assert first != "1"
