"""While the model request is made again (a 503, a timeout), the reply says so until it begins; phone
and desktop, light and dark, axe-clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import THEMES, axe_violations, horizontal_overflow, new_context
from tests.conftest import PASSWORD
from tests.live import send_message, sign_in

pytestmark = pytest.mark.usefixtures("no_summaries")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_retry_is_said_in_the_reply_until_it_begins(
    browser, asgi_server, alice, app_model, viewport, theme
):
    app_model.reply(status=503, error="overloaded")
    app_model.reply(text="Here after all, sorry for the wait.", delay=2.0)
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        send_message(page, "Are you there?")
        notice = page.locator(".msg-assistant.streaming .run-notice")
        expect(notice).to_have_text("No answer from the model yet: trying again (2 of 3)…")
        expect(notice).to_have_attribute("role", "status")
        assert horizontal_overflow(page) == 0
        assert [v for v in axe_violations(page) if not v.startswith("page-has-heading-one")] == []

        reply = page.locator(".msg-assistant.status-completed")
        expect(reply).to_contain_text("Here after all")
        expect(page.locator(".run-notice")).to_have_count(0)
    finally:
        context.close()
