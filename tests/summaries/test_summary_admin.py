"""The summary in the admin: shown on the session page, recomputed by a staff member's POST."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sessions_app.models import SessionSummary
from tests.conftest import PASSWORD
from tests.summaries.conftest import summary_input

pytestmark = pytest.mark.django_db


def _refresh_url(session) -> str:
    return reverse("admin:sessions_app_agentsession_summary_refresh", args=[session.pk])


def _change_url(session) -> str:
    return reverse("admin:sessions_app_agentsession_change", args=[session.pk])


@pytest.fixture
def summarised(thread):
    first, last = thread.add("one"), thread.add("two")
    summary = SessionSummary.objects.create(
        session=thread.session, text="They talked about Lisbon.", topics=["travel"], last_run=first
    )
    thread.last = last
    return summary


def test_the_session_page_shows_the_summary_and_the_recompute_buttons(client, staff, thread, summarised):
    client.force_login(staff)

    response = client.get(_change_url(thread.session))

    assert response.status_code == 200
    page = response.content.decode()
    assert "They talked about Lisbon." in page and "travel" in page
    assert summarised.last_run.run_id in page
    assert f'formaction="{_refresh_url(thread.session)}"' in page
    assert "Recompute summary" in page and "Recompute from the beginning" in page


def test_the_session_page_says_when_there_is_no_summary_yet(client, staff, thread):
    client.force_login(staff)

    page = client.get(_change_url(thread.session)).content.decode()

    assert "No summary yet." in page and "Recompute summary" in page


def test_staff_recompute_enqueues_the_task_on_commit(
    client, staff, thread, summarised, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_refresh_url(thread.session), {"summary_full": "0"})

    assert response.status_code == 302 and response.url == _change_url(thread.session)
    assert [(cb.func.__self__.name, cb.args) for cb in callbacks] == [
        ("sessions.summary_update", (thread.session_id,))
    ]
    summarised.refresh_from_db()
    assert summarised.text == "They talked about Lisbon."  # the worker folds; nothing changed here


def test_a_full_recompute_forgets_the_covered_runs_before_enqueueing(
    client, staff, thread, summarised, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(_refresh_url(thread.session), {"summary_full": "1"})

    assert len(callbacks) == 1
    summarised.refresh_from_db()
    assert (summarised.text, summarised.topics, summarised.last_run) == ("", [], None)


def test_without_workers_the_recompute_folds_right_away(client, staff, thread, summarised, summaries):
    client.force_login(staff)

    response = client.post(_refresh_url(thread.session), {"summary_full": "1"}, follow=True)

    assert response.status_code == 200
    summarised.refresh_from_db()
    assert (summarised.text, summarised.last_run) == ("Summary 1.", thread.last)
    body = summary_input(summaries.requests[0])
    assert "They talked about Lisbon." not in body and "one" in body and "two" in body
    assert "done" in response.content.decode()


def test_a_failing_model_shows_an_error_message_not_a_500(client, staff, thread, summarised, app_model):
    app_model.reply(status=503, error="overloaded", headers={"x-should-retry": "false"})
    client.force_login(staff)

    response = client.post(_refresh_url(thread.session), follow=True)

    assert response.status_code == 200
    assert "failed" in response.content.decode() and "503" in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "bob", "anonymous"])
def test_people_who_are_not_staff_cannot_recompute(
    client, who, alice, bob, thread, summarised, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    if who != "anonymous":
        client.login(username=who, password=PASSWORD)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_refresh_url(thread.session), {"summary_full": "1"})

    assert response.status_code == 302 and "/admin/login/" in response.url
    assert callbacks == []
    summarised.refresh_from_db()
    assert summarised.text == "They talked about Lisbon."


def test_the_recompute_url_only_takes_posts(client, staff, thread):
    client.force_login(staff)

    assert client.get(_refresh_url(thread.session)).status_code == 405


def test_an_unknown_session_is_not_found(client, staff):
    client.force_login(staff)

    response = client.post(reverse("admin:sessions_app_agentsession_summary_refresh", args=[999_999]))

    assert response.status_code == 404


def test_the_summary_admin_shows_the_buttons_and_returns_to_its_page(
    client, staff, thread, summarised, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    client.force_login(staff)
    page_url = reverse("admin:sessions_app_sessionsummary_change", args=[summarised.pk])

    page = client.get(page_url).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"{_refresh_url(thread.session)}?next={page_url}")

    assert "Recompute summary" in page
    assert response.status_code == 302 and response.url == page_url
    assert len(callbacks) == 1


def test_an_outside_next_address_is_ignored(client, staff, thread, summarised, settings):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    client.force_login(staff)

    response = client.post(f"{_refresh_url(thread.session)}?next=https://evil.example/")

    assert response.url == _change_url(thread.session)


def test_the_list_action_recomputes_the_selected_summaries(
    client, staff, thread, summarised, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    client.force_login(staff)
    url = reverse("admin:sessions_app_sessionsummary_changelist")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            url, {"action": "recompute_summaries_fully", "_selected_action": [summarised.pk]}
        )

    assert response.status_code == 302
    assert [cb.args for cb in callbacks] == [(thread.session_id,)]
    summarised.refresh_from_db()
    assert summarised.last_run is None
