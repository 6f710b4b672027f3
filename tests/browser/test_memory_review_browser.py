"""Review before keeping in a browser: the memories waiting for review at the top of /memories/ and of
the chat's memory panel, with Keep, Edit (then keep) and Discard; at phone and desktop sizes, light and
dark, axe-clean and without sideways scrolling; and the plain forms without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from memory_app import services
from memory_app.models import Memory, MemoryChange, MemoryProposal
from sessions_app.models import AgentSession
from tests.conftest import PASSWORD
from tests.factories import finished_run
from tests.live import sign_in

from .pages import THEMES, new_context, settled_problems

pytestmark = pytest.mark.django_db(transaction=True)


def propose(user, text: str, **kwargs) -> MemoryProposal:
    return services.proposal_create(user_pk=user.pk, text=text, actor="model", **kwargs)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_person_keeps_edits_and_discards_what_the_agent_proposed(
    browser, asgi_server, alice, viewport, theme
):
    paris, _ = services.memory_create(user_pk=alice.pk, text="Lives in Paris", actor="person")
    propose(alice, "Plays the cello", topics=["music"])
    propose(alice, "Lives in Lyon", change="supersede", target=paris)
    propose(alice, "Dislikes mornings")
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/memories/")
        review = page.locator("#memory-review")
        expect(review.get_by_role("heading")).to_have_text("Waiting for your review (3)")
        expect(review.locator(".review-item", has_text="Lives in Lyon")).to_contain_text(
            "replaces “Lives in Paris”"
        )
        problems += settled_problems(page, "waiting")

        review.locator(".review-item", has_text="Plays the cello").get_by_role("button", name="Keep").click()
        expect(review.get_by_role("status")).to_have_text(
            "Kept: “Plays the cello”. The agent knows it from the next message on."
        )
        expect(review.get_by_role("heading")).to_have_text("Waiting for your review (2)")
        expect(page.locator("#memory-items")).to_contain_text("Plays the cello")  # the list reloaded
        problems += settled_problems(page, "kept")

        lyon = review.locator(".review-item", has_text="Lives in Lyon")
        lyon.get_by_text("Edit", exact=True).click()
        lyon.get_by_label("Memory").fill("Lives in Lyon since May")
        problems += settled_problems(page, "editing")
        lyon.get_by_role("button", name="Keep edited").click()
        expect(review.get_by_role("status")).to_contain_text("Kept: “Lives in Lyon since May”")
        expect(page.locator("#memory-items")).to_contain_text("Lives in Lyon since May")
        expect(page.locator("#memory-items")).not_to_contain_text("Lives in Paris")  # replaced when kept

        review.locator(".review-item", has_text="Dislikes mornings").get_by_role(
            "button", name="Discard"
        ).click()
        expect(review.get_by_role("status")).to_have_text(
            "Discarded: “Dislikes mornings”. Nothing was remembered."
        )
        expect(review.get_by_role("heading")).to_have_count(0)
        problems += settled_problems(page, "all decided")
    finally:
        context.close()

    assert problems == []
    assert set(Memory.objects.current().filter(user=alice).values_list("text", flat=True)) == {
        "Plays the cello",
        "Lives in Lyon since May",
    }
    paris.refresh_from_db()
    assert not paris.is_current and paris.superseded_by.text == "Lives in Lyon since May"
    decisions = MemoryChange.objects.filter(action__in=["keep", "discard"])
    assert sorted(decisions.values_list("action", flat=True)) == ["discard", "keep", "keep"]
    assert {(c.actor, c.actor_user) for c in decisions} == {("person", alice)}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_person_reviews_in_the_chats_memory_panel(browser, asgi_server, alice, viewport, theme):
    session = AgentSession.objects.create(session_id="alice-thread", user=alice)
    run = finished_run(session, "I play the cello and hate mornings", "Noted, both.")
    propose(alice, "Plays the cello", run_pk=run.pk)
    propose(alice, "Hates mornings", run_pk=run.pk)
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/chats/alice-thread/")
        reply = page.locator(f"#reply-{run.run_id}")
        expect(reply.locator(".chip", has_text="proposed: Plays the cello")).to_be_visible()
        if viewport == "phone":
            page.locator(".chat-tabs button[data-pane=memory]").click()
        panel = page.locator("#memory-panel")
        expect(panel.get_by_role("heading", name="Waiting for your review (2)")).to_be_visible()
        problems += settled_problems(page, "chat, waiting")

        panel.locator(".review-item", has_text="Plays the cello").get_by_role("button", name="Keep").click()
        expect(panel.get_by_role("status")).to_contain_text("Kept: “Plays the cello”")
        expect(panel.locator(".memory-list")).to_contain_text("Plays the cello")
        expect(panel.get_by_role("heading", name="Waiting for your review (1)")).to_be_visible()

        mornings = panel.locator(".review-item", has_text="Hates mornings")
        mornings.get_by_text("Edit", exact=True).click()
        mornings.get_by_label("Memory").fill("Is not a morning person")
        mornings.get_by_role("button", name="Keep edited").click()
        expect(panel.get_by_role("status")).to_contain_text("Kept: “Is not a morning person”")
        expect(panel.locator(".review-item")).to_have_count(0)
        problems += settled_problems(page, "chat, all kept")
    finally:
        context.close()

    if viewport == "phone":  # the memory pane is shown, the thread and its h1 are behind the Chat tab
        problems = [p for p in problems if "page-has-heading-one" not in p]
    assert problems == []
    assert set(Memory.objects.current().filter(user=alice).values_list("text", flat=True)) == {
        "Plays the cello",
        "Is not a morning person",
    }


def test_the_review_works_without_javascript(browser, asgi_server, alice):
    propose(alice, "Plays the cello")
    propose(alice, "Dislikes mornings")
    context = browser.new_context(base_url=asgi_server, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/memories/")
        review = page.locator("#memory-review")
        cello = review.locator(".review-item", has_text="Plays the cello")
        cello.get_by_text("Edit", exact=True).click()  # <details>: no script needed
        cello.get_by_label("Memory").fill("Plays the cello badly")
        cello.get_by_role("button", name="Keep edited").click()
        page.wait_for_url("**/memories/")
        expect(page.locator("#memory-items")).to_contain_text("Plays the cello badly")
        review.locator(".review-item", has_text="Dislikes mornings").get_by_role(
            "button", name="Discard"
        ).click()
        page.wait_for_url("**/memories/")
        expect(page.locator("#memory-review .review-item")).to_have_count(0)
    finally:
        context.close()

    assert list(Memory.objects.values_list("text", flat=True)) == ["Plays the cello badly"]
    assert set(MemoryProposal.objects.values_list("state", flat=True)) == {"kept", "discarded"}
