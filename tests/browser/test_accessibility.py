"""For screen readers and keyboards: replies announced in a live region, a skip link, focus
outlines, no motion for those who ask for less."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.live import send_message, sign_in


# Screen readers: a live region for replies, a skip link; reduced motion
def test_a_finished_reply_is_announced_once_through_a_live_region(desktop, alice, demo_model):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    region = page.locator("#reply-announcer")
    expect(region).to_have_attribute("aria-live", "polite")
    send_message(page, "My name is Sarah and I prefer email over phone.")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(1)
    send_message(page, "What do you know about me?")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(2)
    expect(region).to_contain_text(
        "The agent replied: (Offline demo model) Here is what I remember about you"
    )


def test_a_streaming_reply_is_announced_as_begun_then_as_said(desktop, alice, app_model):
    app_model.reply(text="One two three four five six seven eight nine ten.", chunk_delay=0.3)
    page = desktop
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Count to ten")
    region = page.locator("#reply-announcer")
    expect(page.locator(".msg-assistant.streaming")).to_be_visible()
    expect(region).to_have_text("The agent is answering…")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(1)
    expect(region).to_have_text("The agent replied: One two three four five six seven eight nine ten.")


def test_the_first_tab_stop_skips_to_the_content(desktop, alice):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_keyboard_focus_is_outlined_on_links_buttons_and_fields(desktop, alice):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    seen = set()
    for _ in range(12):
        page.keyboard.press("Tab")
        tag, style, width = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                       return [e.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
        )
        assert style == "solid" and width >= 2, (tag, style, width)
        seen.add(tag)
    assert {"A", "BUTTON", "SELECT"} <= seen, seen


def test_the_typing_dots_do_not_move_when_the_reader_asks_for_reduced_motion(browser, asgi_server, alice):
    durations = {}
    for motion in ("reduce", "no-preference"):
        context = browser.new_context(base_url=asgi_server, reduced_motion=motion)
        page = context.new_page()
        sign_in(page, "alice", PASSWORD)
        page.evaluate(
            """() => document.getElementById("thread-runs").insertAdjacentHTML("beforeend",
                 '<span class="typing"><i></i><i></i><i></i></span>')"""
        )
        durations[motion] = page.evaluate(
            """() => { const s = getComputedStyle(document.querySelector(".typing i"));
                       return [s.animationDuration, s.animationIterationCount]; }"""
        )
        context.close()
    assert durations["no-preference"] == ["1.2s", "infinite"]
    assert durations["reduce"] == ["1e-05s", "1"]
