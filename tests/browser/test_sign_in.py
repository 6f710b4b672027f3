"""Signing in through a real browser against the ASGI server."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.live import sign_in


def test_a_person_signs_in_and_sees_the_configured_model(page, alice):
    sign_in(page, "alice", PASSWORD)
    assert page.locator("h1").inner_text() == "Hello, alice"
    assert "openai-chat:test-model" in page.locator("main").inner_text()


def test_a_wrong_password_is_refused_with_a_message(page, alice):
    page.goto("/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".error").is_visible()
    assert "/login/" in page.url


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
