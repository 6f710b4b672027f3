"""A chat whose first reply never came (stopped, failed, cut off, timed out) is titled from its first
message's words, with no model call; and an ordinary person never sees "title pending…" for good."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from agentapp.agent.session.titles import title_from_text
from sessions_app import jobs
from sessions_app.models import AgentSession, Run
from tests import factories

from .sse import read_stream, read_stream_stopping
from .test_stream import STORY, _pending

pytestmark = [pytest.mark.usefixtures("no_summaries")]

FIRST = "Plan a long weekend in Porto with the kids and the grandparents"
PENDING = "title pending"


def _titled(session_id: str = "alice-thread") -> str:
    return AgentSession.objects.get(session_id=session_id).title


def test_a_first_reply_cut_off_titles_the_chat_from_its_first_message_without_a_model_call(
    asgi_server, alice, app_model
):
    app_model.reply(text="The first part of an answer that never ends", cut_after=3)
    run = _pending(alice, FIRST)
    frames = read_stream(asgi_server, run.run_id, alice)
    run.refresh_from_db()
    assert run.status == Run.Status.ERROR
    assert _titled() == title_from_text(FIRST)
    assert len(app_model.requests) == 1  # the reply's own request: no title request
    final = frames[-2].data
    assert PENDING not in final and title_from_text(FIRST) in final


def test_a_first_reply_stopped_titles_the_chat_from_its_first_message(asgi_server, alice, app_model):
    app_model.reply(text=STORY, chunk_delay=0.15)
    run = _pending(alice, FIRST)
    frames = read_stream_stopping(asgi_server, run.run_id, alice, after_replies=2)
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED
    assert _titled() == title_from_text(FIRST)
    assert PENDING not in frames[-2].data


@pytest.mark.django_db
def test_the_sweep_titles_a_chat_whose_runs_all_ended_without_a_reply_with_no_worker(alice, settings):
    settings.AGENT_BACKGROUND_TASKS = "inline"
    thread = factories.session(alice, "stuck-chat")
    run = factories.run(thread, FIRST, status=Run.Status.RUNNING)
    old = timezone.now() - timedelta(hours=2)
    Run.objects.filter(pk=run.pk).update(created_at=old, started_at=old)
    jobs.sweep()  # ends the stale run, and titles its chat from the first message
    assert _titled("stuck-chat") == title_from_text(FIRST)


@pytest.mark.django_db
def test_an_ordinary_person_sees_no_pending_title_on_a_chat_left_untitled(alice, staff):
    thread = factories.session(alice, "old-chat")
    factories.finished_run(thread, FIRST, "Sure.")
    AgentSession.objects.filter(pk=thread.pk).update(updated_at=timezone.now() - timedelta(minutes=10))

    def entry(user, url: str = "/chats/old-chat/") -> str:
        client = Client()
        client.force_login(user)
        page = client.get(url, headers={"HX-Request": "true"}).content.decode()
        return page.split('id="session-old-chat"')[1].split("</li>")[0]

    assert PENDING not in entry(alice) and "Plan a long weekend" in entry(alice)
    assert PENDING not in entry(alice, "/chats/old-chat/item/?tries=3")  # the entry's refresh too
    assert PENDING in entry(staff, "/chats/old-chat/item/?tries=3")  # to an operator: no worker titles
