"""An untitled chat's sidebar entry, while "title pending…" shows: the first message's words in two
lines at most, with nothing of a third line peeking under them; phone and desktop, light and dark,
axe-clean and without sideways scrolling."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.pages import THEMES, axe_violations, horizontal_overflow, new_context
from tests.conftest import PASSWORD
from tests.live import sign_in

pytestmark = pytest.mark.usefixtures("no_summaries")

FIRST = "Planning the spring garden: raised beds, a compost heap, and which tomatoes survive the wind"


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_pending_title_shows_two_lines_of_the_first_message_and_no_cut_third(
    browser, asgi_server, alice, viewport, theme
):
    session = factories.session(alice, "s-untitled")
    factories.finished_run(session, FIRST, "Sure.")
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/chats/s-untitled/")
        if viewport == "phone":
            page.click(".chat-tabs button[data-pane=sessions]")
        entry = page.locator("#session-s-untitled")
        entry.locator(".title-pending").wait_for()
        link = entry.locator(".session-link")
        # Whatever the link's box shows below its second line is part of a third line, cut in half.
        below = link.evaluate(
            "el => { const s = getComputedStyle(el);"
            " return el.clientHeight - parseFloat(s.paddingTop) - 2 * parseFloat(s.lineHeight); }"
        )
        assert below <= 0.5, f"{below}px of a third line show under the title"
        pending = entry.locator(".title-pending").bounding_box()
        assert pending is not None and pending["height"] < 24  # the note on one line
        assert horizontal_overflow(page) == 0
        assert [v for v in axe_violations(page) if not v.startswith("page-has-heading-one")] == []
    finally:
        context.close()
