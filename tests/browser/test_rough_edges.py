"""The rough edges a new user met (issue 18), in a real browser: each test failed before its fix."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from agentapp.accounts.models import Preferences
from apikeys.models import ApiKey
from memory_app import services as memory_services
from memory_app.models import Memory
from sessions_app.models import AgentSession
from tests import factories
from tests.conftest import PASSWORD
from tests.live import send_message, sign_in

from .pages import new_context

SUFFIX = " · Agent sessions & memory"


@pytest.fixture
def phone(browser, asgi_server):
    context = new_context(browser, asgi_server, "phone", "light")
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser, asgi_server):
    context = new_context(browser, asgi_server, "desktop", "light")
    yield context.new_page()
    context.close()


def _background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


# Dark mode, and the person's own choice over the system's
def test_pages_follow_the_systems_dark_setting_until_the_person_chooses_light(browser, asgi_server, alice):
    context = new_context(browser, asgi_server, "desktop", "dark")
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        dark = _background(page)
        assert dark == "rgb(15, 20, 26)"
        page.select_option("#theme-choice", "light")
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        page.wait_for_load_state("load")
        assert _background(page) == "rgb(246, 247, 249)"
        assert Preferences.objects.get(user=alice).theme == "light"
    finally:
        context.close()
    # Another browser, set to light: the account's choice of dark wins.
    Preferences.objects.filter(user=alice).update(theme="dark")
    context = new_context(browser, asgi_server, "phone", "light")
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        assert _background(page) == dark
        page.goto("/memories/")
        assert _background(page) == dark
    finally:
        context.close()


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


# The Delete button on /memories/: readable, and it asks first
def test_the_delete_button_on_the_memories_page_is_red_text_on_the_card_and_asks_first(desktop, alice):
    memory_services.memory_create(user_pk=alice.pk, text="Alice likes jazz", actor="person")
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    delete = page.locator(".mem-item").get_by_role("button", name="Delete")
    colours = delete.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert colours == ["rgb(180, 35, 24)", "rgba(0, 0, 0, 0)"]
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    expect(page.locator(".mem-item")).to_contain_text("Alice likes jazz")
    assert Memory.objects.get().deleted_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(page.locator(".mem-toast")).to_contain_text("Memory deleted")


# 2. A blank first message on the home page
def test_a_blank_first_message_on_the_home_page_gets_an_inline_error_and_the_app_stays(phone, alice):
    page = phone
    sign_in(page, "alice", PASSWORD)
    page.fill("#composer textarea", "   ")
    page.click("#composer .btn-send")
    expect(page.locator("#composer-error")).to_have_text("Type a message first.")
    expect(page.locator("#composer textarea")).to_be_visible()
    assert page.url.endswith("/")
    assert not AgentSession.objects.exists()


# 4. Rename: the heading and the tab follow; Esc cancels; the field holds the whole first message
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


# 5. The automatic title reaches the browser's tab
def test_the_automatic_title_of_a_new_chat_reaches_the_tab_title(desktop, alice, demo_model):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    expect(page).to_have_title("Chat" + SUFFIX)
    send_message(page, "Tell me a story about a patient agent")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(1)
    expect(page.locator("#thread-title")).to_have_text("Tell me a story about a…")
    expect(page).to_have_title("Tell me a story about a…" + SUFFIX)


# 6. A long paste: the limit is said, a counter shows near it, the box shrinks back after sending
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


# 9. "Run details" shows without hovering (a touch screen cannot hover)
def test_run_details_is_shown_without_hovering(phone, alice):
    session = factories.session(alice, "s-one", title="First chat")
    factories.run(session, "hello", content="Hi!")
    page = phone
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    link = page.get_by_role("link", name="Run details")
    expect(link).to_be_in_viewport()
    assert link.evaluate("a => getComputedStyle(a).opacity") == "1"


# 10. The count on /memories/ follows an add and a delete
def test_the_memory_count_follows_adding_and_deleting(desktop, alice):
    memory_services.memory_create(user_pk=alice.pk, text="Alice likes jazz", actor="person")
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    count = page.locator("#memory-count")
    expect(count).to_have_text(re.compile(r"^\s*1 memory\s*$"))
    page.fill("#memory-new-text", "Alice drinks green tea")
    page.click("#memory-add button[type=submit]")
    expect(page.locator("#memory-items")).to_contain_text("Alice drinks green tea")
    expect(count).to_have_text(re.compile(r"^\s*2 memories\s*$"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".mem-item", has_text="Alice likes jazz").get_by_role("button", name="Delete").click()
    expect(page.locator(".mem-toast")).to_be_visible()
    expect(count).to_have_text(re.compile(r"^\s*1 memory\s*$"))


# 12. Import does not cover the History card; no dead disclosure triangle; nav links look alike
def _overlap(a: dict, b: dict) -> bool:
    apart_y = a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
    apart_x = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
    return not (apart_x or apart_y)


def test_the_import_form_and_its_answer_open_without_covering_the_cards_under_them(desktop, alice):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    page.locator(".mem-import summary").click()
    form = page.locator(".mem-import form")
    expect(form).to_be_visible()
    page.set_input_files(
        ".mem-import input[type=file]",
        files=[{"name": "m.json", "mimeType": "application/json", "buffer": b"nope"}],
    )
    form.get_by_role("button", name="Import").click()
    answer = page.locator("#memory-import-result")
    expect(answer).to_contain_text("not valid JSON")
    cards = [page.locator(selector).bounding_box() for selector in ("#memory-history", "#memory-add")]
    for box in (form.bounding_box(), answer.bounding_box()):
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box
        assert not any(_overlap(box, card) for card in cards), (box, cards)


def test_the_event_pages_heading_has_no_disclosure_triangle(desktop, alice, demo_model):
    from agentapp import app_agent
    from sessions_app.models import RunEvent

    app_agent.agent().run("Hello there", user_id="alice", session_id="s1")
    event = RunEvent.objects.order_by("pk").first()
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/runs/{event.run.run_id}/events/{event.pk}/")
    heading = page.get_by_role("heading", level=1)
    assert heading.evaluate("h => getComputedStyle(h, '::before').content") == "none"
    summary_label = page.locator("summary .tl-label")
    assert summary_label.count() == 0 or summary_label.first.evaluate(
        "h => getComputedStyle(h, '::before').content"
    ).startswith('"')


def test_sign_out_looks_like_the_other_menu_links(desktop, alice):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    nav = page.locator("#site-nav")

    def look(locator):
        style = "getComputedStyle(e)"
        return locator.evaluate(f"e => [{style}.color, {style}.textDecorationLine, {style}.fontSize]")

    memories = look(nav.get_by_role("link", name="Memories"))
    assert look(nav.get_by_role("button", name="Sign out")) == memories
    assert memories[1] == "none"


# 13. API keys: the secret once, a copy button; Revoke asks; a reload creates nothing
def test_a_new_key_is_copied_with_a_button_and_a_reload_does_not_make_another(browser, asgi_server, alice):
    context = new_context(browser, asgi_server, "phone", "light")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/settings/api-keys/")
        page.fill("input[name=name]", "billing backend")
        page.get_by_role("button", name="Create key").click()
        token = page.locator("#new-key-token").inner_text()
        assert token
        page.get_by_role("button", name="Copy key").click()
        expect(page.locator(".copy-status")).to_have_text("Copied to the clipboard.")
        assert page.evaluate("navigator.clipboard.readText()") == token
        page.reload()
        expect(page.locator("#new-key-token")).to_have_count(0)
        assert ApiKey.objects.count() == 1

        page.once("dialog", lambda dialog: dialog.dismiss())
        page.get_by_role("button", name="Revoke billing backend").click()
        assert ApiKey.objects.get().revoked_at is None
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke billing backend").click()
        expect(page.locator("tr.revoked")).to_have_count(1)
        assert ApiKey.objects.get().revoked_at is not None
    finally:
        context.close()
