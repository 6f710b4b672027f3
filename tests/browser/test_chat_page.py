"""The chat page's controls in a browser: the composer, renaming, the title in the tab, the run
details link."""

from __future__ import annotations

from playwright.sync_api import expect

from sessions_app.models import AgentSession
from tests import factories
from tests.conftest import PASSWORD
from tests.live import send_message, sign_in

SUFFIX = " · Agent sessions & memory"


def test_a_blank_first_message_on_the_home_page_gets_an_inline_error_and_the_app_stays(phone, alice):
    page = phone
    sign_in(page, "alice", PASSWORD)
    page.fill("#composer textarea", "   ")
    page.click("#composer .btn-send")
    expect(page.locator("#composer-error")).to_have_text("Type a message first.")
    expect(page.locator("#composer textarea")).to_be_visible()
    assert page.url.endswith("/")
    assert not AgentSession.objects.exists()


# Rename: the heading and the tab follow; Esc cancels; the field holds the whole first message
def test_renaming_the_open_chat_updates_its_heading_and_the_tab_title(desktop, alice):
    session = factories.session(alice, "s-one", title="First chat")
    factories.run(session, "hello", content="Hi!")
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    expect(page).to_have_title("First chat" + SUFFIX)
    page.locator("#session-s-one a[title=Rename]").click()
    field = page.locator("#session-s-one input[name=title]")
    field.fill("Holiday plans")
    field.press("Enter")
    expect(page.locator("#session-s-one .session-link")).to_have_text("Holiday plans")
    expect(page.locator("#thread-title")).to_have_text("Holiday plans")
    expect(page).to_have_title("Holiday plans" + SUFFIX)


def test_esc_cancels_a_rename_and_the_field_starts_with_the_whole_first_message(desktop, alice):
    session = factories.session(alice, "s-one")
    factories.run(session, "My name is Sarah and I prefer email over phone.", content="Noted.")
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    page.locator("#session-s-one a[title=Rename]").click()
    field = page.locator("#session-s-one input[name=title]")
    expect(field).to_have_value("My name is Sarah and I prefer email over phone.")
    field.fill("Something else")
    field.press("Escape")
    expect(field).to_have_count(0)
    expect(page.locator("#session-s-one .session-link")).to_have_text("My name is Sarah and I…")
    assert AgentSession.objects.get(session_id="s-one").title == ""


# The automatic title reaches the browser's tab
def test_the_automatic_title_of_a_new_chat_reaches_the_tab_title(desktop, alice, demo_model):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    expect(page).to_have_title("Chat" + SUFFIX)
    send_message(page, "Tell me a story about a patient agent")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(1)
    expect(page.locator("#thread-title")).to_have_text("Tell me a story about a…")
    expect(page).to_have_title("Tell me a story about a…" + SUFFIX)


# A long paste: the limit is said, a counter shows near it, the box shrinks back after sending
def test_a_paste_over_the_limit_is_said_to_be_cut_and_the_composer_shrinks_back_after_sending(
    desktop, alice, demo_model
):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    box = page.locator("#composer textarea")
    count = page.locator("#composer-count")
    expect(count).to_be_hidden()
    box.focus()
    page.keyboard.insert_text("x" * 26_000)
    expect(count).to_have_text("26,000 / 32,000 characters")
    page.keyboard.insert_text("y" * 24_000)
    assert len(box.input_value()) == 32_000
    expect(count).to_contain_text("Cut to fit: a message holds at most 32,000 characters")

    page.goto("/")
    page.goto(page.url)  # an empty composer again
    empty_height = box.bounding_box()["height"]
    box.fill("one\ntwo\nthree\nfour\nfive\nsix\nseven")
    box.dispatch_event("input")
    assert box.bounding_box()["height"] > empty_height + 40
    box.press("Enter")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(1)
    box.fill("eight\nnine\nten\neleven\ntwelve")
    box.dispatch_event("input")
    tall = box.bounding_box()["height"]
    box.press("Enter")  # a second message goes through htmx: the form is reset in place
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(2)
    expect(box).to_have_value("")
    page.wait_for_function(
        "h => document.querySelector('#composer textarea').offsetHeight < h", arg=tall - 40
    )
    assert abs(box.bounding_box()["height"] - empty_height) < 2


# "Run details" shows without hovering (a touch screen cannot hover)
def test_run_details_is_shown_without_hovering(phone, alice):
    session = factories.session(alice, "s-one", title="First chat")
    factories.run(session, "hello", content="Hi!")
    page = phone
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    link = page.get_by_role("link", name="Run details")
    expect(link).to_be_in_viewport()
    assert link.evaluate("a => getComputedStyle(a).opacity") == "1"
