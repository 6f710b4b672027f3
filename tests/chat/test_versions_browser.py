"""Versions in a real browser (Debian chromium), at phone and desktop sizes: a message edited, an
answer regenerated, the arrows between them, and the version chosen still shown after a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.live import send_message, sign_in

pytestmark = pytest.mark.usefixtures("no_summaries")

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


def _replies(page):
    return page.locator(".msg-assistant.status-completed .md")


@pytest.mark.parametrize("size", SIZES)
def test_edit_and_regenerate_make_versions_to_move_between_that_survive_a_reload(
    page, alice, app_model, size
):
    page.set_viewport_size(SIZES[size])
    app_model.reply(text="Noted: tea.")
    app_model.reply(text="You like tea.")
    sign_in(page, "alice", PASSWORD)
    send_message(page, "I like tea")
    expect(_replies(page)).to_have_count(1)
    send_message(page, "What do I like?")
    expect(_replies(page)).to_have_count(2)

    # Edit the first message: a new version of the first turn, without the turn that followed it.
    app_model.reply(text="Noted: coffee.")
    first = page.locator(".exchange").first
    first.locator(".btn-edit").click()
    box = page.locator(".edit-form textarea")
    expect(box).to_have_value("I like tea")
    expect(box).to_be_focused()
    box.fill("I like coffee")
    page.locator(".edit-form button[type=submit]").click()
    expect(_replies(page)).to_have_text(["Noted: coffee."])
    expect(page.locator(".exchange")).to_have_count(1)
    expect(page.locator(".versions-at")).to_have_text("2/2")
    heard = [m["content"] for m in app_model.requests[-1].body["messages"] if m["role"] == "user"]
    assert heard == ["I like coffee"]

    # Regenerate that answer: a third version of the turn.
    app_model.reply(text="Coffee it is.")
    page.locator(".btn-retry").click()
    expect(_replies(page)).to_have_text(["Coffee it is."])
    expect(page.locator(".versions-at")).to_have_text("3/3")

    # Back to the first version: its later turn comes back with it, and stays after a reload.
    page.click(".version-btn[aria-label='Previous version']")
    expect(page.locator(".versions-at")).to_have_text("2/3")
    expect(_replies(page)).to_have_text(["Noted: coffee."])
    expect(page.locator(".version-btn[aria-label='Previous version']")).to_be_focused()
    page.click(".version-btn[aria-label='Previous version']")
    expect(page.locator(".versions-at")).to_have_text("1/3")
    expect(_replies(page)).to_have_text(["Noted: tea.", "You like tea."])
    expect(page.locator(".msg-user .bubble")).to_have_text(["I like tea", "What do I like?"])
    page.reload()
    expect(page.locator(".versions-at")).to_have_text("1/3")
    expect(_replies(page)).to_have_text(["Noted: tea.", "You like tea."])

    # Forward again, reload: the version chosen is the one shown; the thread goes on from it.
    page.click(".version-btn[aria-label='Next version']")
    expect(page.locator(".versions-at")).to_have_text("2/3")
    page.reload()
    expect(page.locator(".versions-at")).to_have_text("2/3")
    expect(_replies(page)).to_have_text(["Noted: coffee."])
    app_model.reply(text="Coffee, as you said.")
    send_message(page, "What do I like now?")
    expect(_replies(page)).to_have_count(2)
    heard = [m["content"] for m in app_model.requests[-1].body["messages"] if m["role"] == "user"]
    assert heard == ["I like coffee", "What do I like now?"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_esc_cancels_an_edit_and_puts_the_message_back(page, alice, app_model):
    app_model.reply(text="Hello.")
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Hi there")
    expect(_replies(page)).to_have_count(1)
    page.locator(".btn-edit").click()
    page.locator(".edit-form textarea").fill("Something else")
    page.keyboard.press("Escape")
    expect(page.locator(".edit-form")).to_have_count(0)
    expect(page.locator(".msg-user .bubble")).to_have_text(["Hi there"])
    expect(page.locator(".versions")).to_have_count(0)
