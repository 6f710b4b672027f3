"""Feedback on a reply in a real browser: thumbs up on a reply just streamed, a comment added, both
still there after a reload; at phone and desktop sizes, light and dark, axe-clean and without
sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sessions_app.models import RunFeedback
from tests.conftest import PASSWORD
from tests.live import send_message, sign_in

from .pages import THEMES, new_context, settled_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_summaries")]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_person_rates_a_reply_comments_on_it_and_finds_both_after_a_reload(
    browser, asgi_server, alice, app_model, viewport, theme
):
    app_model.reply(text="Monday: the dentist at 9, then the gym.")
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        send_message(page, "Plan my Monday")
        reply = page.locator(".msg-assistant.status-completed")
        expect(reply.locator(".md")).to_have_text("Monday: the dentist at 9, then the gym.")

        # The reply just streamed in has its thumbs, neither pressed.
        good = reply.get_by_role("button", name="Good reply")
        bad = reply.get_by_role("button", name="Bad reply")
        expect(good).to_have_attribute("aria-pressed", "false")
        expect(bad).to_have_attribute("aria-pressed", "false")
        problems += settled_problems(page, "a reply with its thumbs")

        good.click()
        expect(good).to_have_attribute("aria-pressed", "true")
        expect(bad).to_have_attribute("aria-pressed", "false")
        expect(good).to_be_focused()  # the swap keeps the keyboard where it was
        comment = reply.get_by_label("What was good about this reply? (optional)")
        expect(comment).to_be_visible()  # offered at once
        expect(reply.get_by_role("status")).to_have_text("Thank you: your feedback is saved.")
        problems += settled_problems(page, "rated, a comment offered")

        comment.fill("Short and in order.")
        reply.get_by_role("button", name="Save comment").click()
        expect(reply.locator(".feedback-said")).to_have_text("Your comment: Short and in order.")
        expect(reply.get_by_role("status")).to_have_text("Comment saved. Thank you.")
        problems += settled_problems(page, "commented")

        page.reload()
        reply = page.locator(".msg-assistant.status-completed")
        expect(reply.get_by_role("button", name="Good reply")).to_have_attribute("aria-pressed", "true")
        expect(reply.get_by_role("button", name="Bad reply")).to_have_attribute("aria-pressed", "false")
        expect(reply.locator(".feedback-said")).to_have_text("Your comment: Short and in order.")
        reply.get_by_text("Edit your comment").click()
        expect(reply.get_by_label("What was good about this reply? (optional)")).to_have_value(
            "Short and in order."
        )
        problems += settled_problems(page, "after a reload")

        # A change of mind: the other thumb, the comment kept.
        reply.get_by_role("button", name="Bad reply").click()
        expect(reply.get_by_role("button", name="Bad reply")).to_have_attribute("aria-pressed", "true")
        expect(reply.get_by_role("button", name="Good reply")).to_have_attribute("aria-pressed", "false")
        expect(reply.locator(".feedback-said")).to_have_text("Your comment: Short and in order.")
    finally:
        context.close()

    assert problems == []
    feedback = RunFeedback.objects.get()
    assert (feedback.user, feedback.rating, feedback.comment) == (alice, "down", "Short and in order.")


def test_the_run_page_shows_the_feedback_axe_clean(browser, asgi_server, alice, app_model):
    from agentapp import app_agent
    from sessions_app.models import Run
    from sessions_app.services import run_feedback_give

    app_model.reply(text="A plan.")
    app_agent.agent().run("Plan my day", user_id="alice", session_id="t")  # a run with its timeline
    run = Run.objects.get()
    run_feedback_give(run=run, user=alice, rating="down", comment="It forgot my 10 o'clock meeting.")
    problems: list[str] = []
    for viewport in ("phone", "desktop"):
        for theme in THEMES:
            context = new_context(browser, asgi_server, viewport, theme)
            page = context.new_page()
            try:
                sign_in(page, "alice", PASSWORD)
                page.goto(f"/runs/{run.run_id}/")
                expect(page.locator("#run-feedback-rating")).to_have_text("thumbs down")
                expect(page.locator("#run-feedback-comment")).to_have_text("It forgot my 10 o'clock meeting.")
                problems += settled_problems(page, f"run page, {viewport} {theme}")
            finally:
                context.close()
    assert problems == []
