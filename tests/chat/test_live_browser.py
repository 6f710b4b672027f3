"""A reply that survives the browser, rendered as it streams, with code to copy (Debian chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sessions_app.models import Run
from tests.conftest import PASSWORD
from tests.live import send_message, sign_in

STORY = (
    "Once upon a time there was a **very** patient agent who streamed every single word to the "
    "reader, slowly, one after another, until the very last one, which was this."
)
CODE = "def answer():\n    return 42\n"
REPLY_WITH_CODE = f"Here it is:\n\n```python\n{CODE}```\n\nThat is all."


pytestmark = pytest.mark.usefixtures("no_summaries")


@pytest.fixture
def clipboard_page(browser, asgi_server):
    context = browser.new_context(
        base_url=asgi_server,
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_closing_the_page_mid_reply_and_reopening_it_shows_the_whole_reply(page, alice, app_model):
    app_model.reply(text=STORY, chunk_delay=0.1)
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Tell me a story")
    expect(page.locator(".msg-assistant.streaming .md-stream")).to_contain_text("Once upon")
    url = page.url
    context = page.context
    page.close()  # mid-reply

    again = context.new_page()
    again.goto(url)
    reply = again.locator(".msg-assistant.status-completed")
    expect(reply).to_contain_text("until the very last one, which was this.")
    expect(reply.locator("strong")).to_have_text("very")
    run = Run.objects.get()
    assert run.status == Run.Status.COMPLETED and run.content == STORY
    assert len(app_model.requests) == 1


def test_two_tabs_follow_one_reply_and_stop_in_the_second_stops_it_in_both(page, alice, app_model):
    app_model.reply(text=STORY, chunk_delay=0.25)
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Tell me a long story")
    expect(page.locator(".md-stream")).to_contain_text("Once")
    second = page.context.new_page()
    second.goto(page.url)
    expect(second.locator(".msg-assistant.streaming .md-stream")).to_contain_text("Once")

    second.click(".btn-stop")
    for tab in (page, second):
        stopped = tab.locator(".msg-assistant.status-cancelled")
        expect(stopped).to_contain_text("Stopped.")
        expect(stopped).to_contain_text("Once upon")
    run = Run.objects.get()
    assert run.status == Run.Status.CANCELLED and run.content and STORY.startswith(run.content)
    assert run.content != STORY and "which was this" not in page.locator(".msg-assistant").inner_text()


def test_formatting_shows_while_the_reply_still_streams(page, alice, app_model):
    app_model.reply(text="**Bold** from the start, and " + "then many more words " * 8, chunk_delay=0.1)
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Say something bold")
    expect(page.locator(".msg-assistant.streaming .md-stream strong")).to_have_text("Bold")
    expect(page.locator(".msg-assistant.status-completed strong")).to_have_text("Bold")


def test_a_highlighted_code_block_and_a_whole_reply_copy_to_the_clipboard(clipboard_page, alice, app_model):
    page = clipboard_page
    app_model.reply(text=REPLY_WITH_CODE)
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Show me some code")
    block = page.locator(".msg-assistant.status-completed pre.highlight")
    expect(block).to_have_attribute("data-lang", "python")
    expect(block.locator(".k").first).to_have_text("def")  # a keyword, highlighted by Pygments

    button = page.locator(".msg-assistant.status-completed .code-copy")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == CODE

    whole = page.locator(".msg-assistant.status-completed .btn-copy-reply")
    whole.click()
    expect(whole).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == REPLY_WITH_CODE
