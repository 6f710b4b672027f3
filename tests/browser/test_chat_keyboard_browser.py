"""The chat from the keyboard, in a real browser at phone and desktop sizes, light and dark: Enter
sends an edited message as it sends the composer's; the shortcuts and their help dialog; a code
block that scrolls sideways takes focus. Axe-clean throughout."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sessions_app.models import Run
from tests import factories
from tests.conftest import PASSWORD
from tests.live import sign_in

from .pages import THEMES, new_context, settled_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_summaries")]

BOTH = pytest.mark.parametrize("theme", THEMES)
SIZES = pytest.mark.parametrize("viewport", ["phone", "desktop"])


@pytest.fixture
def open_page(browser, asgi_server):
    contexts = []

    def make(viewport: str, theme: str):
        context = new_context(browser, asgi_server, viewport, theme)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _replies(page):
    return page.locator(".msg-assistant.status-completed .md")


# Item 5: the edit box sends on Enter (and Ctrl+Enter); Shift+Enter is a new line
@BOTH
@SIZES
def test_enter_sends_an_edited_message_and_shift_enter_makes_a_new_line(
    open_page, alice, app_model, viewport, theme
):
    session = factories.session(alice, "s-one", title="Tea")
    factories.finished_run(session, "I like tea", "Noted: tea.")
    page = open_page(viewport, theme)
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    if viewport == "phone":
        expect(page.locator(".btn-edit")).to_be_visible()

    app_model.reply(text="Noted: coffee.")
    page.locator(".btn-edit").click()
    box = page.locator(".edit-form textarea")
    expect(box).to_be_focused()
    problems = settled_problems(page, f"editing at {viewport}, {theme}")
    box.fill("I like coffee")
    box.press("Shift+Enter")
    page.keyboard.type("and cake")
    expect(box).to_have_value("I like coffee\nand cake")
    box.press("Enter")
    expect(page.locator(".edit-form")).to_have_count(0)
    expect(_replies(page)).to_have_text(["Noted: coffee."])
    expect(page.locator(".versions-at")).to_have_text("2/2")
    assert (
        Run.objects.filter(session=session).order_by("created_at").last().input == "I like coffee\nand cake"
    )

    app_model.reply(text="Noted: juice.")
    page.locator(".btn-edit").click()
    box = page.locator(".edit-form textarea")
    box.fill("I like juice")
    box.press("Control+Enter")
    expect(page.locator(".versions-at")).to_have_text("3/3")
    expect(_replies(page)).to_have_text(["Noted: juice."])
    problems += settled_problems(page, f"sent at {viewport}, {theme}")
    assert problems == []


def test_enter_in_a_blank_edit_box_says_so_and_sends_nothing(open_page, alice, app_model):
    session = factories.session(alice, "s-one", title="Tea")
    factories.finished_run(session, "I like tea", "Noted: tea.")
    page = open_page("desktop", "light")
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    page.locator(".btn-edit").click()
    box = page.locator(".edit-form textarea")
    box.fill("   ")
    box.press("Enter")
    expect(page.locator(".edit-form")).to_have_count(1)
    assert Run.objects.filter(session=session).count() == 1
    assert app_model.requests == []


# Item 7: Copy and Regenerate are quiet icon buttons with names, and a focus ring
def _rgba(css: str) -> tuple[float, ...]:
    inside = css[css.index("(") + 1 : css.index(")")]
    parts = [float(p) for p in inside.replace("/", ",").replace(" ", ",").split(",") if p]
    return tuple(parts) if len(parts) == 4 else (*parts, 1.0)


@BOTH
@SIZES
def test_copy_and_regenerate_are_quiet_icon_buttons_with_names_and_a_focus_ring(
    open_page, alice, viewport, theme
):
    session = factories.session(alice, "s-one", title="Tea")
    factories.finished_run(session, "I like tea", "Noted: tea.")
    page = open_page(viewport, theme)
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    reply = page.locator(".msg-assistant").first
    page_bg = _rgba(page.evaluate("getComputedStyle(document.querySelector('.chat-thread')).backgroundColor"))
    for name in ["Copy reply", "Regenerate"]:
        button = reply.get_by_role("button", name=name, exact=True)
        expect(button).to_be_visible()
        expect(button.locator("svg")).to_have_count(1)
        r, g, b, a = _rgba(button.evaluate("b => getComputedStyle(b).backgroundColor"))
        near_page = max(abs(r - page_bg[0]), abs(g - page_bg[1]), abs(b - page_bg[2])) < 24
        assert a == 0 or near_page, f"{name} is filled: rgba({r}, {g}, {b}, {a})"
        assert button.evaluate("b => getComputedStyle(b).fontWeight") in ("400", "normal")

    reply.get_by_role("link", name="Run details").focus()
    page.keyboard.press("Tab")
    copy = reply.get_by_role("button", name="Copy reply", exact=True)
    expect(copy).to_be_focused()
    ring = copy.evaluate(
        "b => [getComputedStyle(b).outlineStyle, parseFloat(getComputedStyle(b).outlineWidth)]"
    )
    assert ring[0] != "none" and ring[1] >= 2
    assert settled_problems(page, f"the reply's buttons at {viewport}, {theme}") == []


# Item 6: shortcuts, their help dialog, and code blocks that scroll sideways take focus
LONG_LINE = "x = [" + ", ".join(str(n) for n in range(120)) + "]"


@BOTH
@SIZES
def test_a_code_block_that_scrolls_sideways_takes_focus_and_has_a_name(open_page, alice, viewport, theme):
    session = factories.session(alice, "s-one", title="Code")
    factories.finished_run(
        session, "Show me a long line", f"Here:\n\n```python\n{LONG_LINE}\n```\n\n```\n{LONG_LINE}\n```"
    )
    page = open_page(viewport, theme)
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")
    blocks = page.locator(".msg-assistant .md pre")
    expect(blocks).to_have_count(2)
    for i in range(2):
        block = blocks.nth(i)
        assert block.evaluate("p => p.scrollWidth > p.clientWidth")
        expect(block).to_have_attribute("tabindex", "0")
        expect(block).to_have_accessible_name("Code")
    blocks.first.focus()
    page.keyboard.press("End")  # the browser's own scrolling works on the focused block
    expect(blocks.first).to_be_focused()
    assert settled_problems(page, f"a long code block at {viewport}, {theme}") == []


def _chat_links(page) -> list[str]:
    return page.locator("#session-list .session-link").evaluate_all("links => links.map(a => a.pathname)")


@BOTH
@SIZES
def test_keyboard_shortcuts_move_between_chats_search_start_a_chat_and_are_listed_on_question_mark(
    open_page, alice, viewport, theme
):
    for name in ["s-a", "s-b", "s-c"]:
        session = factories.session(alice, name, title=f"Chat {name}")
        factories.finished_run(session, f"Hello from {name}", "Hi.")
    page = open_page(viewport, theme)
    sign_in(page, "alice", PASSWORD)
    page.goto("/")
    chats = _chat_links(page)
    assert len(chats) == 3
    page.goto(chats[1])
    composer = page.locator("#composer textarea")
    expect(composer).to_be_focused()

    # Alt+Arrow moves between the chats of the sidebar, from the composer too.
    page.keyboard.press("Alt+ArrowDown")
    page.wait_for_url(f"**{chats[2]}")
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_url(f"**{chats[1]}")
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_url(f"**{chats[0]}")

    # ? while typing is a question mark; elsewhere it opens the list of shortcuts; Esc closes it.
    composer.press("?")
    expect(composer).to_have_value("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()
    composer.fill("")
    page.get_by_role("link", name="Run details").focus()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    for text in ["Ctrl+Shift+O", "Ctrl+K", "Alt+↑", "Alt+↓", "?"]:
        expect(dialog).to_contain_text(text)
    problems = settled_problems(page, f"the shortcuts at {viewport}, {theme}")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # The button in the sidebar opens it too.
    if viewport == "phone":
        page.get_by_role("button", name="Chats").click()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Ctrl+K, or / when not typing, goes to the search of the sidebar (shown on a phone).
    page.goto(chats[0])
    search = page.get_by_role("searchbox", name="Search chats")
    page.keyboard.press("Control+k")
    expect(search).to_be_focused()
    expect(search).to_be_visible()
    page.goto(chats[0])
    page.get_by_role("link", name="Run details").focus()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")

    # Ctrl+Shift+O: a new chat.
    page.keyboard.press("Control+Shift+O")
    page.wait_for_url(lambda url: url.endswith("/") and "/chats/" not in url)
    expect(page.locator("#composer textarea")).to_be_focused()
    assert problems == []
