"""/settings/api-keys/ in a browser: the secret shown once with a copy button; Revoke asks first."""

from __future__ import annotations

from playwright.sync_api import expect

from apikeys.models import ApiKey
from tests.conftest import PASSWORD
from tests.live import sign_in

from .pages import new_context


# API keys: the secret once, a copy button; Revoke asks; a reload creates nothing
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
