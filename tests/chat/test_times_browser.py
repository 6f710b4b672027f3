"""Times in a real browser, at phone and desktop sizes, light and dark: each message's time with the
exact time on hover, the sidebar's day groups with long titles, axe-clean and no sideways scroll."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import AgentSession
from tests import factories
from tests.browser.pages import THEMES, axe_violations, horizontal_overflow, new_context
from tests.conftest import PASSWORD
from tests.live import sign_in

# "Thursday 3 December 2026, 14:03:07 UTC"
EXACT = re.compile(r"^\w+day \d{1,2} \w+ \d{4}, \d\d:\d\d:\d\d UTC$")
LONG_TITLE = "Planning the spring garden: raised beds, a compost heap, and which tomatoes survive the wind"


pytestmark = pytest.mark.usefixtures("no_summaries")


def _chats(alice) -> AgentSession:
    for session_id, title, days in [("s-old", "Tax return", 45), ("s-week", "Lunch ideas", 3)]:
        factories.session(alice, session_id, title=title)
        AgentSession.objects.filter(session_id=session_id).update(
            updated_at=timezone.now() - timedelta(days=days)
        )
    session = factories.session(alice, "s-garden", title=LONG_TITLE)
    factories.run(
        session,
        "Which tomatoes survive the wind?",
        content="Try **cherry** tomatoes.",
        ended_at=timezone.now(),
    )
    return session


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_messages_show_their_time_and_the_sidebar_its_groups_axe_clean_without_overflow(
    browser, asgi_server, alice, viewport, theme
):
    _chats(alice)
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/chats/s-garden/")
        times = page.locator("#thread-runs time.msg-time")
        expect(times).to_have_count(2)  # the message and the reply
        for time in times.all():
            expect(time).to_be_visible()
            expect(time).to_have_text("just now")
            time.hover()
            expect(time).to_have_attribute("title", EXACT)
        assert horizontal_overflow(page) == 0
        assert axe_violations(page) == []

        if viewport == "phone":
            page.click(".chat-tabs button[data-pane=sessions]")
        labels = page.locator("#session-list .session-group-label")
        expect(labels).to_have_text(
            ["Today", "Previous 7 days", f"{timezone.now() - timedelta(days=45):%B %Y}"]
        )
        link = page.locator("#session-s-garden .session-link")
        expect(link).to_have_attribute("title", LONG_TITLE)
        expect(link).to_have_accessible_name(LONG_TITLE)
        box = link.bounding_box()
        assert box is not None and box["height"] > 25  # the long title takes a second line
        assert horizontal_overflow(page) == 0
        # On a phone the Chats tab hides the conversation and its <h1> (as before the groups): axe's
        # best-practice rule for a level-one heading is the one it then reports.
        assert [v for v in axe_violations(page) if not v.startswith("page-has-heading-one")] == []
    finally:
        context.close()


def test_a_streamed_reply_gets_its_time_when_it_finishes(page, alice, app_model):
    app_model.reply(text="Here is the answer.", chunk_delay=0.05)
    sign_in(page, "alice", PASSWORD)
    page.fill("#composer textarea", "A question")
    page.press("#composer textarea", "Enter")
    reply = page.locator(".msg-assistant.status-completed")
    expect(reply).to_contain_text("Here is the answer.")
    expect(reply.locator("time.msg-time")).to_have_text("just now")
    expect(page.locator(".msg-user time.msg-time")).to_have_text("just now")


def test_a_message_time_stays_current_without_a_reload(page, alice):
    session = factories.session(alice, "s-one", title="Clock")
    factories.run(session, "Hello", content="Hi.", ended_at=timezone.now())
    page.clock.install(time=timezone.now())
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    times = page.locator("#thread-runs time.msg-time")
    expect(times).to_have_text(["just now", "just now"])
    page.clock.run_for("05:01")
    expect(times).to_have_text(["5 min ago", "5 min ago"])
