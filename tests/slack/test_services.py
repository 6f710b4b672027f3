"""Slack's services and the event's decision, on the database: event ids kept for the retry window,
the rate limit said in the thread, a direct message's source on /memories/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from memory_app.models import Memory
from sessions_app import services as session_services
from sessions_app.models import Run
from slack_app import services
from slack_app.inbound import event_begin
from slack_app.models import SlackEvent, SlackIdentity

from .conftest import dm_payload

pytestmark = pytest.mark.django_db


def test_an_event_id_is_refused_again_until_it_is_days_old():
    assert services.event_record(event_id="Ev1", team_id="T0", kind="app_mention")
    assert not services.event_record(event_id="Ev1", team_id="T0", kind="app_mention")
    SlackEvent.objects.update(received_at=timezone.now() - timedelta(days=services.EVENT_DAYS, minutes=1))
    assert services.event_record(event_id="Ev2", team_id="T0", kind="app_mention")
    assert list(SlackEvent.objects.values_list("event_id", flat=True)) == ["Ev2"]


def test_a_person_over_the_run_limit_is_told_so_and_nothing_runs(settings):
    settings.AGENT_RUNS_PER_MINUTE = 1
    first = event_begin(payload=dm_payload(text="one"))
    second = event_begin(payload=dm_payload(text="two"))
    assert first is not None and first.run_id and first.link_token  # the first contact offers a link
    assert second is not None and not second.run_id and not second.link_token
    assert second.notice.startswith("Too many runs: at most 1 a minute.")
    assert Run.objects.count() == 1


def test_an_empty_mention_is_answered_with_the_reason_and_runs_nothing():
    begin = event_begin(payload=dm_payload(text="   "))
    assert begin is not None and not begin.run_id and begin.notice
    assert not Run.objects.exists()


def test_a_fact_told_in_a_direct_message_names_it_and_links_to_the_conversation(alice):
    begin = event_begin(payload=dm_payload(text="I drink tea"))
    assert begin is not None and begin.thread_ts == ""
    identity = SlackIdentity.objects.get()
    run = Run.objects.get()
    Memory.objects.create(user=identity.user, text="Drinks tea", normalized_text="drinks tea", source_run=run)
    services.link_confirm(token=begin.link_token, user=alice)

    client = Client()
    client.force_login(alice)
    page = client.get("/memories/").content.decode()
    assert "told in Slack, direct message" in page
    assert 'href="https://app.slack.com/client/T0TEAM/D0ALICE"' in page


def test_a_link_confirmed_by_its_own_account_changes_nothing_but_the_link(alice):
    identity, _ = services.identity_get_or_create(team_id="T0", slack_user_id="U0")
    session = services.thread_session_get_or_create(
        identity=identity, channel="D0", thread_ts="", is_direct=True
    )
    session_services.run_create(session=session, input="hi", status=Run.Status.COMPLETED)
    token = services.link_token_create(identity=identity)
    linked = services.link_confirm(token=token, user=alice)
    assert linked.user == alice and linked.account is None and linked.linked_at is not None
    assert Run.objects.get().user == alice
    with pytest.raises(services.LinkInvalid):
        services.link_confirm(token=token, user=alice)
