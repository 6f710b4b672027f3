"""A person starts a temporary chat: the toggle on a new chat, the message sent, the banner saying
what it means, and after a reload the chat is in no list: at phone and desktop sizes, light and
dark, axe-clean and without sideways scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from memory_app.models import Memory
from sessions_app.models import AgentSession
from tests import factories
from tests.conftest import PASSWORD
from tests.fake_openai import Reply
from tests.live import send_message, sign_in

from .pages import THEMES, horizontal_overflow, new_context, settled_problems

pytestmark = pytest.mark.django_db(transaction=True)

BANNER = "Temporary chat: not remembered, not in your history, deleted after 30 days."


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_temporary_chat_says_so_and_is_not_in_the_sidebar_after_a_reload(
    browser, asgi_server, alice, app_model, settings, viewport, theme
):
    settings.AGENT_TEMPORARY_CHAT_DAYS = 30
    settings.AGENT_UPDATE_MEMORY_ON_RUN = True
    app_model.responder = lambda request: Reply(text="A surprise it stays.")
    ordinary = AgentSession.objects.create(session_id="ordinary", user=alice, title="Trip to Lisbon")
    factories.run(ordinary, "Where should I stay?", content="Alfama.")
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        toggle = page.get_by_role("checkbox", name=re.compile("^Temporary chat"))
        expect(toggle).not_to_be_checked()
        expect(page.locator(".temporary-note")).to_be_hidden()
        toggle.check()
        # The page's promise changes with it: nothing of this chat is remembered.
        expect(page.locator(".temporary-note")).to_be_visible()
        expect(page.locator(".remembers-note")).to_be_hidden()
        problems += settled_problems(page, "the toggle on")

        send_message(page, "Plan a surprise party for Bob")
        page.wait_for_url(re.compile(r"/chats/[^/]+/$"))
        expect(page.locator(".msg-assistant.status-completed")).to_contain_text("A surprise it stays.")
        banner = page.get_by_role("note").filter(has_text="Temporary chat:")
        expect(banner).to_have_text(BANNER)
        expect(banner).to_be_visible()
        expect(page.locator("#session-list .session-item")).to_have_count(1)  # the reply added none
        problems += settled_problems(page, "the temporary chat")

        page.reload()
        expect(page.get_by_role("note").filter(has_text="Temporary chat:")).to_have_text(BANNER)
        expect(page.locator(".msg-user .bubble")).to_have_text("Plan a surprise party for Bob")
        problems += settled_problems(page, "the temporary chat again")
        if viewport == "phone":
            # The chats behind their tab (the conversation, with the page's one h1, hidden meanwhile).
            page.get_by_role("button", name="Chats").click()
        sidebar = page.locator("#session-list")
        expect(sidebar).to_be_visible()
        expect(sidebar).to_contain_text("Trip to Lisbon")
        expect(sidebar).not_to_contain_text("surprise party")
        expect(sidebar.locator(".session-item")).to_have_count(1)
        if overflow := horizontal_overflow(page):
            problems.append(f"the sidebar after a reload: {overflow}px wider than the window")
    finally:
        context.close()

    assert problems == []
    session = AgentSession.objects.get(temporary=True)
    assert session.user == alice and session.title == "" and session.runs.get().status == "completed"
    assert not Memory.objects.exists()
    assert AgentSession.objects.filter(temporary=False).get() == ordinary
