"""/settings/ in a real browser: reached from the header, custom instructions and the memory switches
saved (htmx, a "Saved" status), kept after a reload, and the reason shown next to a field past its
limit; at phone and desktop sizes, light and dark, axe-clean and without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sessions_app.models import INSTRUCTIONS_LIMIT, PersonSettings
from tests.conftest import PASSWORD
from tests.live import sign_in

from .pages import THEMES, new_context, settled_problems

pytestmark = pytest.mark.django_db(transaction=True)

ABOUT = "I keep bees near Lyon and I am learning Italian."
HOW = "Short answers, with a list when there are steps."


def _open_from_the_header(page, viewport: str) -> None:
    if viewport == "phone":  # the menu folds behind a button
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_person_saves_their_settings_and_finds_them_after_a_reload(
    browser, asgi_server, alice, viewport, theme
):
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        _open_from_the_header(page, viewport)
        expect(page.get_by_role("heading", name="Your settings")).to_be_visible()
        expect(page.get_by_label("Use memories in replies")).to_be_checked()
        expect(page.get_by_text(f"0 of {INSTRUCTIONS_LIMIT} characters").first).to_be_visible()
        problems += settled_problems(page, "the page")

        page.get_by_label("About you").fill(ABOUT)
        expect(page.locator("#about_you-count")).to_have_text(
            f"{len(ABOUT)} of {INSTRUCTIONS_LIMIT} characters"
        )
        page.get_by_label("How to respond").fill(HOW)
        page.get_by_label("Learn new memories automatically").uncheck()
        page.get_by_label("Review new memories before they are kept").check()
        page.get_by_role("button", name="Save").click()

        expect(page.get_by_role("status")).to_have_text("Saved.")
        problems += settled_problems(page, "saved")
        page.reload()

        expect(page.get_by_label("About you")).to_have_value(ABOUT)
        expect(page.get_by_label("How to respond")).to_have_value(HOW)
        expect(page.get_by_label("Use memories in replies")).to_be_checked()
        expect(page.get_by_label("Learn new memories automatically")).not_to_be_checked()
        expect(page.get_by_label("Review new memories before they are kept")).to_be_checked()
        expect(page.get_by_role("status")).to_have_text("")
    finally:
        context.close()

    assert problems == []
    row = PersonSettings.objects.get(user=alice)
    assert (row.about_you, row.how_to_respond, row.use_memories, row.learn_memories, row.review_memories) == (
        ABOUT,
        HOW,
        True,
        False,
        True,
    )


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_past_the_limit_the_reason_is_shown_next_to_the_field(browser, asgi_server, alice, viewport, theme):
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    too_long = "b" * (INSTRUCTIONS_LIMIT + 3)
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/settings/")
        field = page.get_by_label("How to respond")
        field.fill(too_long)
        expect(page.locator("#how_to_respond-count")).to_have_text(
            f"{INSTRUCTIONS_LIMIT + 3} of {INSTRUCTIONS_LIMIT} characters: 3 too many"
        )
        page.get_by_role("button", name="Save").click()

        error = page.locator("#how_to_respond-error")
        expect(error).to_have_text(
            f"How to respond (how_to_respond) is at most {INSTRUCTIONS_LIMIT} characters; "
            f"this is {INSTRUCTIONS_LIMIT + 3}, 3 too many."
        )
        expect(page.get_by_role("status")).to_have_text("Not saved: see the reason above.")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(
            "How you want the agent to answer: its tone, how long, in which language, what to avoid. "
            f"{INSTRUCTIONS_LIMIT + 3} of {INSTRUCTIONS_LIMIT} characters: 3 too many "
            f"{error.text_content()}"
        )
        expect(field).to_have_value(too_long)  # what was typed is not lost
        problems += settled_problems(page, "refused")

        field.fill("Plainly.")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        expect(page.locator("#how_to_respond-error")).to_have_count(0)
    finally:
        context.close()

    assert problems == []
    assert PersonSettings.objects.get(user=alice).how_to_respond == "Plainly."
