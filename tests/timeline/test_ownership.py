"""Every timeline page and route: the owner sees it, another user gets 404, anonymous is sent to sign in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sessions_app.models import RunEvent

pytestmark = pytest.mark.django_db

PAGES = ["run", "context", "event", "session_timeline"]


def _url(page: str, run) -> str:
    if page == "run":
        return reverse("runs:detail", args=[run.run_id])
    if page == "context":
        return reverse("runs:context", args=[run.run_id])
    if page == "event":
        return reverse("runs:event", args=[run.run_id, RunEvent.objects.filter(run=run).first().pk])
    return reverse("runs:session_timeline", args=[run.session.session_id])


@pytest.mark.parametrize("page", PAGES)
def test_the_owner_sees_the_page(client, alice, tool_run, page):
    client.force_login(alice)
    response = client.get(_url(page, tool_run))
    assert response.status_code == 200
    assert (
        tool_run.run_id.encode() in response.content
        or tool_run.session.session_id.encode() in response.content
    )


@pytest.mark.parametrize("page", PAGES)
def test_another_user_gets_not_found(client, bob, tool_run, page):
    client.force_login(bob)
    assert client.get(_url(page, tool_run)).status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, tool_run, page):
    url = _url(page, tool_run)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login")) and "next=" in response.url


@pytest.mark.parametrize("page", PAGES)
def test_staff_may_open_anyones_page(client, staff, tool_run, page):
    client.force_login(staff)
    assert client.get(_url(page, tool_run)).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/runs/run_missing/",
        "/runs/run_missing/context/",
        "/runs/run_missing/events/1/",
        "/sessions/nope/timeline/",
    ],
)
def test_a_missing_run_or_session_is_not_found(client, alice, url):
    client.force_login(alice)
    assert client.get(url).status_code == 404


def test_the_runs_list_needs_sign_in(client):
    response = client.get(reverse("runs:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_pages_only_answer_get(client, alice, tool_run):
    client.force_login(alice)
    assert client.post(_url("run", tool_run)).status_code == 405
    assert client.post(reverse("runs:list")).status_code == 405
