"""A chat exported from its menu in the sidebar, as a Markdown or a JSON file the browser downloads:
at phone and desktop sizes, light and dark, axe-clean with the menu open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.factories import finished_run, session
from tests.live import sign_in

from .pages import THEMES, new_context, settled_problems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_chat_downloads_as_markdown_and_as_json_from_its_menu(
    browser, asgi_server, alice, demo_model, viewport, theme
):
    thread = session(alice, "trip-1", title="Trip to Lisbon")
    finished_run(thread, "Where should I stay?", "Alfama is lovely.")
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/chats/trip-1/")
        if viewport == "phone":
            page.get_by_role("button", name="Chats").click()
        item = page.locator("#session-trip-1")
        menu = item.locator(".session-export-menu")
        expect(menu).to_be_hidden()
        item.get_by_label("Export “Trip to Lisbon”").click()
        expect(menu).to_be_visible()
        problems += settled_problems(page, "the export menu open")

        with page.expect_download() as markdown:
            menu.get_by_role("link", name="Markdown").click()
        assert markdown.value.suggested_filename == "trip-to-lisbon.md"
        text = Path(markdown.value.path()).read_text(encoding="utf-8")
        assert text.startswith("# Trip to Lisbon\n")
        assert "**You:**" in text and "Where should I stay?" in text
        assert "**Agent:**" in text and "Alfama is lovely." in text

        with page.expect_download() as as_json:
            menu.get_by_role("link", name="JSON").click()
        assert as_json.value.suggested_filename == "trip-to-lisbon.json"
        body = json.loads(Path(as_json.value.path()).read_text(encoding="utf-8"))
        assert body["session_id"] == "trip-1"
        assert [r["content"] for r in body["runs"]] == ["Alfama is lovely."]
    finally:
        context.close()

    if viewport == "phone":  # the chats pane is shown, the thread and its h1 are behind the Conversation tab
        problems = [p for p in problems if "page-has-heading-one" not in p]
    assert problems == []
