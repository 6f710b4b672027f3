"""/memories/ in a browser: the Delete button, the count, the import form."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from memory_app import services as memory_services
from memory_app.models import Memory
from tests.conftest import PASSWORD
from tests.live import sign_in


# The Delete button on /memories/: readable, and it asks first
def test_the_delete_button_on_the_memories_page_is_red_text_on_the_card_and_asks_first(desktop, alice):
    memory_services.memory_create(user_pk=alice.pk, text="Alice likes jazz", actor="person")
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    delete = page.locator(".mem-item").get_by_role("button", name="Delete")
    colours = delete.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert colours == ["rgb(180, 35, 24)", "rgba(0, 0, 0, 0)"]
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    expect(page.locator(".mem-item")).to_contain_text("Alice likes jazz")
    assert Memory.objects.get().deleted_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(page.locator(".mem-toast")).to_contain_text("Memory deleted")


# The count on /memories/ follows an add and a delete
def test_the_memory_count_follows_adding_and_deleting(desktop, alice):
    memory_services.memory_create(user_pk=alice.pk, text="Alice likes jazz", actor="person")
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    count = page.locator("#memory-count")
    expect(count).to_have_text(re.compile(r"^\s*1 memory\s*$"))
    page.fill("#memory-new-text", "Alice drinks green tea")
    page.click("#memory-add button[type=submit]")
    expect(page.locator("#memory-items")).to_contain_text("Alice drinks green tea")
    expect(count).to_have_text(re.compile(r"^\s*2 memories\s*$"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".mem-item", has_text="Alice likes jazz").get_by_role("button", name="Delete").click()
    expect(page.locator(".mem-toast")).to_be_visible()
    expect(count).to_have_text(re.compile(r"^\s*1 memory\s*$"))


# Import does not cover the History card; no dead disclosure triangle; nav links look alike
def _overlap(a: dict, b: dict) -> bool:
    apart_y = a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
    apart_x = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
    return not (apart_x or apart_y)


def test_the_import_form_and_its_answer_open_without_covering_the_cards_under_them(desktop, alice):
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto("/memories/")
    page.locator(".mem-import summary").click()
    form = page.locator(".mem-import form")
    expect(form).to_be_visible()
    page.set_input_files(
        ".mem-import input[type=file]",
        files=[{"name": "m.json", "mimeType": "application/json", "buffer": b"nope"}],
    )
    form.get_by_role("button", name="Import").click()
    answer = page.locator("#memory-import-result")
    expect(answer).to_contain_text("not valid JSON")
    cards = [page.locator(selector).bounding_box() for selector in ("#memory-history", "#memory-add")]
    for box in (form.bounding_box(), answer.bounding_box()):
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box
        assert not any(_overlap(box, card) for card in cards), (box, cards)
