"""In a real browser: "Don't remember this" under the message, then "Forget" on a message that taught
the agent something, and its Undo; at phone and desktop sizes, light and dark, axe-clean and without
sideways scrolling. The offline demo model remembers what a person says about themselves whenever
it is offered the memory tools."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from memory_app.models import Memory
from sessions_app.models import Run
from tests.conftest import PASSWORD
from tests.live import send_message, sign_in

from .pages import THEMES, new_context, settled_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_summaries")]


def _current() -> list[str]:
    return list(Memory.objects.current().values_list("text", flat=True))


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_message_kept_out_of_memory_then_one_forgotten_and_brought_back(
    browser, asgi_server, alice, demo_model, viewport, theme
):
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        toggle = page.get_by_label("Don\u2019t remember this")
        expect(toggle).not_to_be_checked()
        problems += settled_problems(page, "the composer")
        toggle.check()
        send_message(page, "I live in Porto.")

        first = page.locator(".exchange").nth(0)
        expect(first.locator(".msg-assistant.status-completed")).to_contain_text("You said")
        expect(first.locator(".not-remembered")).to_have_text("Not remembered")
        expect(first.get_by_role("button", name="Forget what was learned from this")).to_have_count(0)
        expect(page.get_by_label("Don\u2019t remember this")).not_to_be_checked()  # for one message only
        assert _current() == [] and Run.objects.get().remember is False

        send_message(page, "My name is Sarah.")
        second = page.locator(".exchange").nth(1)
        expect(second.locator(".msg-assistant.status-completed")).to_contain_text("I'll remember that")
        expect(page.locator("#memory-panel .memory")).to_have_count(1)
        problems += settled_problems(page, "remembered")

        second.get_by_role("button", name="Forget what was learned from this").click()
        toast = second.locator(".forget-toast")
        expect(toast).to_contain_text("Forgot what was learned from this: 1 memory removed.")
        expect(second.locator(".not-remembered")).to_be_visible()
        expect(page.locator("#memory-panel .memory")).to_have_count(0)
        assert _current() == []
        problems += settled_problems(page, "forgotten")

        toast.get_by_role("button", name="Undo").click()
        expect(second.locator(".forget-toast")).to_contain_text("Remembered again: 1 memory back.")
        expect(second.get_by_role("button", name="Forget what was learned from this")).to_be_visible()
        expect(page.locator("#memory-panel .memory")).to_have_count(1)
        problems += settled_problems(page, "brought back")
    finally:
        context.close()

    assert problems == []
    assert len(_current()) == 1
    assert list(Run.objects.order_by("pk").values_list("remember", flat=True)) == [False, True]
