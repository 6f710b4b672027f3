"""A fact's life on /memories/ in a browser: no longer true and its Undo, past facts with their
interval, earlier versions in the history and the ways back; at phone and desktop sizes, light and
dark, axe-clean and without sideways scrolling."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from memory_app import services as memory_services
from memory_app.models import Memory, MemoryChange
from sessions_app import services as session_services
from tests.conftest import PASSWORD
from tests.live import sign_in

from .pages import THEMES, new_context, settled_problems

JAN_10 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
MAR_2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MAY_2 = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
DASH = "\N{EN DASH}"  # between the dates of an interval


def remember(user, text: str, since: datetime) -> Memory:
    memory, _ = memory_services.memory_create(user_pk=user.pk, text=text, topics=["life"], actor="person")
    Memory.objects.filter(pk=memory.pk).update(valid_from=since)
    memory.refresh_from_db()
    return memory


def moved_to_porto(alice) -> tuple[Memory, Memory]:
    """Lisbon since 10 January 2025, replaced by Porto on 2 May 2026 by the model in a run."""
    lisbon = remember(alice, "Lives in Lisbon", JAN_10)
    session = session_services.session_create(user=alice, title="Moving")
    run = session_services.run_create(session=session, input="I moved to Porto")
    porto = memory_services.memory_supersede(
        memory=lisbon, text="Lives in Porto", actor="model", run_pk=run.pk, valid_from=MAY_2
    )
    return lisbon, porto


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_person_closes_a_fact_undoes_it_sees_past_facts_and_undoes_a_replacement(
    browser, asgi_server, alice, viewport, theme
):
    lisbon, porto = moved_to_porto(alice)
    tennis = remember(alice, "Plays tennis on Sundays", MAR_2)
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/memories/")
        items = page.locator("#memory-items")
        expect(items.locator(".mem-item", has_text="Lives in Porto")).to_contain_text("since 2026-05-02")
        expect(items).not_to_contain_text("Lives in Lisbon")
        expect(page.locator("#memory-count")).to_have_text(re.compile(r"^\s*2 memories\s*$"))

        # No longer true: a toast with Undo; the count follows.
        tennis_item = items.locator(f"#memory-{tennis.memory_id}")
        tennis_item.get_by_role("button", name="No longer true").click()
        toast = items.locator(".mem-toast")
        expect(toast).to_contain_text("No longer true")
        expect(toast).to_contain_text("Plays tennis on Sundays")
        expect(page.locator("#memory-count")).to_have_text(re.compile(r"^\s*1 memory\s*$"))
        tennis.refresh_from_db()
        assert tennis.valid_to is not None
        problems += settled_problems(page, "after no longer true")

        toast.get_by_role("button", name="Undo").click()
        expect(tennis_item.get_by_role("button", name="No longer true")).to_be_visible()
        expect(page.locator("#memory-count")).to_have_text(re.compile(r"^\s*2 memories\s*$"))
        tennis.refresh_from_db()
        assert tennis.is_current
        assert tennis.changes.first().action == MemoryChange.Action.REOPEN

        tennis_item.get_by_role("button", name="No longer true").click()
        expect(items.locator(".mem-toast")).to_be_visible()

        # Show past facts: each with its interval and what replaced it.
        page.get_by_label("Show past facts").check()
        past = page.locator("#memory-past")
        expect(past).to_be_visible()
        page.wait_for_url(re.compile(r"[?&]past=1"))
        lisbon_past = past.locator(f"#past-memory-{lisbon.memory_id}")
        expect(lisbon_past).to_contain_text(f"true 2025-01-10 {DASH} 2026-05-02")
        expect(lisbon_past).to_contain_text("replaced by: Lives in Porto")
        expect(past.locator(f"#past-memory-{tennis.memory_id}")).to_contain_text("no longer true")
        expect(items).not_to_contain_text("Lives in Lisbon")
        problems += settled_problems(page, "past facts")

        # The history of Porto: the version it replaced, who replaced it, and an Undo.
        items.locator(f"#memory-{porto.memory_id}").get_by_role("link", name="History").click()
        versions = page.locator("#memory-history .mem-versions")
        expect(versions).to_contain_text("Lives in Lisbon")
        expect(versions).to_contain_text(f"true 2025-01-10 {DASH} 2026-05-02")
        expect(versions).to_contain_text("Model (tool call)")
        expect(versions.get_by_role("link", name=re.compile(r"^run "))).to_be_visible()
        problems += settled_problems(page, "history with earlier versions")

        versions.get_by_role("button", name="Undo this replacement").click()
        panel = page.locator("#memory-history .mem-history-panel")
        expect(panel.locator(".mem-history-current")).to_have_text("Lives in Lisbon")
        expect(panel).to_contain_text("True since 2025-01-10")
        expect(items.locator(f"#memory-{lisbon.memory_id}")).to_be_visible()
        expect(items).not_to_contain_text("Lives in Porto")
        expect(past).not_to_contain_text("Lives in Lisbon")
        lisbon.refresh_from_db()
        porto.refresh_from_db()
        assert lisbon.is_current and porto.is_deleted

        # Make a past fact current again from the list of past facts.
        past.locator(f"#past-memory-{tennis.memory_id}").get_by_role(
            "button", name="Make current again"
        ).click()
        expect(items.locator(f"#memory-{tennis.memory_id}")).to_contain_text("since 2026-03-02")
        expect(past).to_contain_text("No past facts yet")
        tennis.refresh_from_db()
        assert tennis.is_current
        problems += settled_problems(page, "after making current again")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_history_page_of_a_replaced_fact_shows_what_replaced_it_and_is_axe_clean(
    browser, asgi_server, alice, viewport, theme
):
    lisbon, porto = moved_to_porto(alice)
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto(f"/memories/{lisbon.memory_id}/history/")
        validity = page.locator(".mem-validity-past")
        expect(validity).to_contain_text(f"true 2025-01-10 {DASH} 2026-05-02")
        expect(validity.get_by_role("link", name="Lives in Porto")).to_be_visible()
        expect(validity.get_by_role("button", name="Undo this replacement")).to_be_visible()
        expect(validity.get_by_role("button", name="Make current again")).to_be_visible()
        problems = settled_problems(page, "history of a replaced fact")

        validity.get_by_role("button", name="Make current again").click()
        expect(page.locator(".mem-history-panel .mem-validity")).to_contain_text("True since 2025-01-10")
        lisbon.refresh_from_db()
        porto.refresh_from_db()
        assert lisbon.is_current and porto.is_current  # made current again: what replaced it stays
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_a_conflict_shows_its_reason_on_the_past_fact_never_an_error_page(desktop, alice):
    lisbon, _ = moved_to_porto(alice)
    remember(alice, "Lives in Lisbon", MAY_2)  # the same fact, current again
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/?past=1")
    item = page.locator(f"#memory-past #past-memory-{lisbon.memory_id}")
    item.get_by_role("button", name="Make current again").click()
    expect(item.get_by_role("alert")).to_contain_text("an identical memory is current already")
    lisbon.refresh_from_db()
    assert not lisbon.is_current


def test_the_chats_memory_panel_links_to_the_past_facts(desktop, alice):
    lisbon, _ = moved_to_porto(alice)
    session = session_services.session_create(user=alice, title="Thread")
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/chats/{session.session_id}/")
    panel = page.locator("#memory-panel")
    expect(panel).to_contain_text("Lives in Porto")
    expect(panel).not_to_contain_text("Lives in Lisbon")
    panel.get_by_role("link", name="past facts").click()
    page.wait_for_url(re.compile(r"/memories/\?past=1$"))
    expect(page.get_by_label("Show past facts")).to_be_checked()
    expect(page.locator(f"#memory-past #past-memory-{lisbon.memory_id}")).to_contain_text(
        "replaced by: Lives in Porto"
    )
