"""A person merges their own duplicate memories on /memories/ (a dry run, then Apply), without an
operator: at phone and desktop sizes, light and dark, axe-clean and without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from memory_app import services
from memory_app.models import Memory, MemoryChange
from tests.conftest import PASSWORD
from tests.live import sign_in

from .pages import THEMES, new_context, settled_problems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_person_merges_their_own_duplicates_after_a_dry_run(
    browser, asgi_server, alice, demo_model, viewport, theme
):
    for text in ["Likes green tea", "User likes green tea", "Likes green tea a lot", "Lives in Paris"]:
        services.memory_create(user_pk=alice.pk, text=text, actor="model")
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto("/memories/")

        page.get_by_role("button", name="Merge duplicates…").click()
        plan = page.locator("#memory-optimize")
        plan.get_by_text("Merge duplicates: dry run").wait_for()
        assert plan.locator("del").count() == 3
        assert not Memory.objects.filter(deleted_at__isnull=False).exists()
        problems += settled_problems(page, "the dry run")
        plan.get_by_role("button", name="Apply 1 merge").click()

        plan.get_by_text("Duplicates merged").wait_for()
        expect(page.locator("#memory-items > li")).to_have_count(2)
        problems += settled_problems(page, "merged")
    finally:
        context.close()

    assert problems == []
    assert Memory.objects.filter(deleted_at__isnull=False).count() == 3
    merges = MemoryChange.objects.filter(action="merge")
    assert {c.actor for c in merges} == {MemoryChange.Actor.PERSON} and {c.actor_user for c in merges} == {
        alice
    }
