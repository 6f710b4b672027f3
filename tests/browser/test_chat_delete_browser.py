"""In a real browser: a chat deleted from its entry in the sidebar asks nothing (no confirm()), turns
into a toast with Undo, which the keyboard reaches and which brings it back in its place; the chat
that is open, deleted, sends the browser home with the same toast, whose Undo opens it again. At
phone and desktop sizes, light and dark, axe-clean and without sideways scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from sessions_app.models import AgentSession
from tests.conftest import PASSWORD
from tests.factories import finished_run, session
from tests.live import sign_in

from .pages import THEMES, new_context, settled_problems

pytestmark = pytest.mark.django_db(transaction=True)


def _deleted(session_id: str) -> bool:
    return AgentSession.objects.get(session_id=session_id).deleted_at is not None


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_chat_deleted_from_its_menu_comes_back_with_undo(
    browser, asgi_server, alice, demo_model, viewport, theme
):
    finished_run(
        session(alice, "trip-1", title="Trip to Lisbon"), "Where should I stay?", "Alfama is lovely."
    )
    finished_run(session(alice, "porto", title="Weekend in Porto"), "Trains?", "Every hour.")
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        if viewport == "phone":
            page.get_by_role("button", name="Chats").click()
        entries = page.locator("#session-list .session-link")
        expect(entries).to_have_text(["Weekend in Porto", "Trip to Lisbon"])

        # From the list: the entry becomes a toast at once, its Undo focused.
        page.get_by_role("button", name="Delete “Trip to Lisbon”").click()
        toast = page.locator("#deleted-trip-1")
        expect(toast.get_by_role("status")).to_have_text("Chat deleted: “Trip to Lisbon”")
        expect(page.locator("#session-trip-1")).to_have_count(0)
        expect(toast.get_by_role("button", name="Undo")).to_be_focused()
        assert _deleted("trip-1")
        problems += settled_problems(page, "the toast in the list")

        page.keyboard.press("Enter")  # the keyboard reaches Undo
        expect(entries).to_have_text(["Weekend in Porto", "Trip to Lisbon"])
        expect(page.get_by_role("link", name="Trip to Lisbon")).to_be_focused()  # the keyboard stays there
        assert not _deleted("trip-1")
        problems += settled_problems(page, "brought back")

        # The chat open: home, with the toast; its Undo opens the chat again.
        page.goto("/chats/trip-1/")
        if viewport == "phone":
            page.get_by_role("button", name="Chats").click()
        page.get_by_role("button", name="Delete “Trip to Lisbon”").click()
        expect(page).to_have_url(re.compile(r"/\?deleted=trip-1$"))
        page_toast = page.locator("#chat-toast")
        expect(page_toast.get_by_role("status")).to_have_text("Chat deleted: “Trip to Lisbon”")
        expect(page.locator("#session-trip-1")).to_have_count(0)
        assert _deleted("trip-1")
        problems += settled_problems(page, "the toast at home")

        page_toast.get_by_role("button", name="Undo").click()
        expect(page).to_have_url(re.compile(r"/chats/trip-1/$"))
        expect(page.locator(".msg-assistant").first).to_contain_text("Alfama is lovely.")
        assert not _deleted("trip-1")
    finally:
        context.close()

    assert dialogs == []  # nothing asked: Undo is the safety net
    if viewport == "phone":  # the chats pane is shown, the thread and its h1 are behind the Conversation tab
        problems = [p for p in problems if "page-has-heading-one" not in p]
    assert problems == []
