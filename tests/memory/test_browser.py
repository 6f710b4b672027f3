"""The editor in a real browser: in-place edit, delete and undo, history with a diff, search as you type."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from memory_app import services
from memory_app.models import Memory
from tests.conftest import PASSWORD
from tests.live import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _item(page, memory: Memory):
    return page.locator(f"#memory-{memory.memory_id}")


def test_a_person_edits_deletes_undoes_and_reads_the_history_of_a_memory(page, alice):
    tea, _ = services.memory_create(
        user_pk=alice.pk, text="Drinks green tea daily", topics=["drinks"], actor="model"
    )
    services.memory_create(user_pk=alice.pk, text="Lives in Paris", topics=["home"], actor="model")
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    item = _item(page, tea)

    item.get_by_role("button", name="Edit").click()
    item.locator("textarea[name=text]").fill("Drinks black tea daily")
    item.get_by_role("button", name="Save").click()
    page.locator(f"#memory-{tea.memory_id} .mem-text").filter(has_text="Drinks black tea daily").wait_for()
    assert Memory.objects.get(pk=tea.pk).text == "Drinks black tea daily"

    page.once("dialog", lambda dialog: dialog.accept())  # Delete asks first
    _item(page, tea).get_by_role("button", name="Delete").click()
    toast = _item(page, tea)
    toast.get_by_text("Memory deleted").wait_for()
    assert Memory.objects.get(pk=tea.pk).is_deleted
    toast.get_by_role("button", name="Undo").click()
    page.locator(f"#memory-{tea.memory_id} .mem-text").wait_for()
    assert not Memory.objects.get(pk=tea.pk).is_deleted

    _item(page, tea).get_by_role("link", name="History").click()
    panel = page.locator("#memory-history .mem-history-panel")
    panel.locator("del", has_text="green").first.wait_for()
    assert panel.locator("ins", has_text="black").count() >= 1
    assert panel.locator(".mem-change").count() == 4  # create, update, delete, restore
    assert page.url.endswith("/memories/")  # the panel opened in place


def test_search_narrows_the_list_as_you_type(page, alice):
    for text in ["Drinks green tea", "Lives in Paris", "Plays the piano"]:
        services.memory_create(user_pk=alice.pk, text=text, actor="person")
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    assert page.locator("#memory-items > li").count() == 3

    page.get_by_role("searchbox", name="Search memories").press_sequentially("pian", delay=40)

    expect(page.locator("#memory-items > li")).to_have_count(1)
    assert page.locator("#memory-items").inner_text().strip().startswith("Plays the piano")
    assert "q=pian" in page.url


def test_an_operator_merges_a_persons_duplicates_after_a_dry_run(page, staff, alice, demo_model):
    for text in ["Likes green tea", "User likes green tea", "Likes green tea a lot", "Lives in Paris"]:
        services.memory_create(user_pk=alice.pk, text=text, actor="model")
    sign_in(page, "ops", PASSWORD)
    page.goto("/memories/?user=alice")

    page.get_by_role("button", name="Merge duplicates…").click()
    plan = page.locator("#memory-optimize")
    plan.get_by_text("Merge duplicates: dry run").wait_for()
    assert plan.locator("del").count() == 3 and Memory.objects.filter(deleted_at__isnull=False).count() == 0
    plan.get_by_role("button", name="Apply 1 merge").click()

    plan.get_by_text("Duplicates merged").wait_for()
    expect(page.locator("#memory-items > li")).to_have_count(2)
    assert page.url.endswith("/memories/?user=alice")
    assert Memory.objects.filter(deleted_at__isnull=False).count() == 3
