"""Dark mode: the system's setting until the person chooses, and then their choice on every browser."""

from __future__ import annotations

from playwright.sync_api import expect

from agentapp.accounts.models import Preferences
from tests.conftest import PASSWORD
from tests.live import sign_in

from .pages import new_context


def _background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


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
