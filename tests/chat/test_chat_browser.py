"""The chat in a real browser (Debian chromium): streaming, the sidebar, Stop, Regenerate, memories."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from sessions_app.models import AgentSession, Run
from tests import factories
from tests.conftest import PASSWORD
from tests.live import send_message, sign_in

STORY = "Once upon a time there was a **very** patient agent who streamed every single word to the reader."


pytestmark = pytest.mark.usefixtures("no_summaries")


def test_a_reply_streams_in_visibly_partial_then_complete_and_the_chat_appears_in_the_sidebar(
    page, alice, app_model
):
    app_model.reply(text=STORY, chunk_delay=0.08)
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Tell me a story about a patient agent")

    streaming = page.locator(".msg-assistant.streaming .md-stream")
    expect(streaming).to_contain_text("Once upon")
    partial = streaming.inner_text()
    assert partial and len(partial) < len(STORY.replace("**", ""))
    expect(page.locator("#composer .btn-send")).to_be_disabled()

    reply = page.locator(".msg-assistant.status-completed")
    expect(reply).to_contain_text("who streamed every single word to the reader.")
    expect(reply.locator("strong")).to_have_text("very")
    expect(page.locator("#composer .btn-send")).to_be_enabled()
    expect(page.locator("#session-list .session-item.current")).to_contain_text("Tell me a story about a…")
    expect(page.locator("#thread-title")).to_have_text("Tell me a story about a…")
    run = Run.objects.get()
    expect(reply.locator(".run-link")).to_have_attribute("href", f"/runs/{run.run_id}/")

    # A second message in the same chat goes through htmx, without a page load.
    app_model.reply(text="And they lived happily.")
    send_message(page, "How does it end?")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(2)
    expect(page.locator(".msg-user")).to_have_count(2)
    expect(page.locator("#composer textarea")).to_have_value("")


def test_memories_written_during_a_run_show_as_chips_and_in_the_panel_without_a_reload(
    page, alice, app_model
):
    app_model.reply(tool_calls=[("add_memory", {"memory": "Alice drinks green tea"})])
    app_model.reply(text="Noted, green tea it is.")
    sign_in(page, "alice", PASSWORD)
    expect(page.locator("#memory-panel")).to_contain_text("Nothing yet")
    send_message(page, "I drink green tea every morning")
    expect(page.locator(".msg-assistant .chip")).to_contain_text("remembered: Alice drinks green tea")
    expect(page.locator("#memory-panel .memory")).to_contain_text("Alice drinks green tea")

    app_model.reply(text="You drink green tea.")
    send_message(page, "What do I drink?")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(2)
    # Alice's one memory fits the budget, so it was given whole: the panel says so, marking none.
    expect(page.locator("#memories-all-given")).to_have_text(
        "This memory was given to the model for the last answer."
    )
    expect(page.locator("#memory-panel .memory.used")).to_have_count(0)


def test_stop_keeps_the_partial_reply(page, alice, app_model):
    app_model.reply(text=STORY, chunk_delay=0.25)
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Tell me a long story")
    expect(page.locator(".md-stream")).to_contain_text("upon")
    page.click(".btn-stop")
    stopped = page.locator(".msg-assistant.status-cancelled")
    expect(stopped).to_contain_text("Stopped.")
    expect(stopped).to_contain_text("Once upon")
    run = Run.objects.get()
    assert run.status == "cancelled" and run.content and run.content != STORY
    assert "reader" not in stopped.inner_text()
    expect(page.locator("#composer .btn-send")).to_be_enabled()


def test_a_failed_reply_is_regenerated_in_place_as_a_second_version(page, alice, app_model):
    app_model.reply(status=400, error="The provider refused the request")
    sign_in(page, "alice", PASSWORD)
    send_message(page, "Will it rain tomorrow?")
    expect(page.locator(".run-error")).to_contain_text("The provider refused the request")
    expect(page.locator(".msg-user .bubble")).to_have_text("Will it rain tomorrow?")

    app_model.reply(text="Sunny all day.")
    page.click(".btn-retry")
    expect(page.locator(".msg-assistant.status-completed")).to_contain_text("Sunny all day.")
    # In place: one exchange, now the second version of the turn; the failed one is one version back.
    expect(page.locator(".exchange")).to_have_count(1)
    expect(page.locator(".versions-at")).to_have_text("2/2")
    expect(page.locator(".run-error")).to_have_count(0)
    page.click(".version-btn[aria-label='Previous version']")
    expect(page.locator(".run-error")).to_contain_text("The provider refused the request")
    expect(page.locator(".versions-at")).to_have_text("1/2")
    runs = list(Run.objects.order_by("id").values_list("status", "parent_id"))
    assert runs == [("error", None), ("completed", None)]


def test_renaming_in_place_and_deleting_with_undo_offered(page, alice):
    for session_id, title in [("s-one", "First chat"), ("s-two", "Second chat")]:
        session = AgentSession.objects.create(session_id=session_id, user=alice, title=title)
        factories.run(session, f"hello from {title}", content="Hi!")
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/s-one/")

    entry = page.locator("#session-s-one")
    entry.hover()
    entry.locator("a[title=Rename]").click()
    title_input = page.locator("#session-s-one input[name=title]")
    title_input.fill("Holiday plans")
    title_input.press("Enter")
    expect(page.locator("#session-s-one .session-link")).to_have_text("Holiday plans")
    assert AgentSession.objects.get(session_id="s-one").title == "Holiday plans"

    page.locator("#session-s-two").hover()
    page.get_by_role("button", name="Delete “Second chat”").click()  # no confirm(): a toast with Undo
    expect(page.locator("#session-s-two")).to_have_count(0)
    expect(page.locator("#deleted-s-two")).to_contain_text("Chat deleted")
    assert AgentSession.objects.get(session_id="s-two").deleted_at is not None

    page.get_by_role("button", name="Delete “Holiday plans”").click()  # the open chat: back to a fresh one
    page.wait_for_url(re.compile(r"/\?deleted=s-one$"))
    expect(page.locator("#session-list")).to_contain_text("No chats yet")
    expect(page.locator("#chat-toast")).to_contain_text("Chat deleted: “Holiday plans”")


def test_searching_the_sidebar_filters_as_you_type(page, alice):
    for session_id, title, text in [("s-a", "Lisbon trip", "hotels"), ("s-b", "Groceries", "oat milk")]:
        session = AgentSession.objects.create(session_id=session_id, user=alice, title=title)
        factories.run(session, text)
    sign_in(page, "alice", PASSWORD)
    page.fill(".session-search", "oat")
    expect(page.locator("#session-list .session-item")).to_have_count(1)
    expect(page.locator("#session-list")).to_contain_text("Groceries")


def test_older_messages_load_when_scrolling_up(page, alice):
    session = AgentSession.objects.create(session_id="long", user=alice, title="Long chat")
    for i in range(20):
        factories.run(session, f"question {i:02d}", content=f"answer {i:02d}")
    sign_in(page, "alice", PASSWORD)
    page.goto("/chats/long/")
    expect(page.locator(".msg-user")).to_have_count(15)
    expect(page.locator(".msg-user .bubble").last).to_have_text("question 19")
    page.screenshot(path="/tmp/chat-screenshot.png")
    page.locator("#thread").evaluate("el => el.scrollTop = 0")
    expect(page.locator(".msg-user")).to_have_count(20)
    expect(page.locator(".msg-user .bubble").first).to_have_text("question 00")


def test_a_title_the_worker_writes_later_appears_in_the_sidebar_and_heading_without_a_reload(
    page, alice, app_model, settings
):
    # The title is the worker's job: its task is enqueued on the default queue, which no test consumes.
    settings.AGENT_BACKGROUND_TASKS = "celery"
    app_model.reply(text="Porto has port wine and bridges.")
    sign_in(page, "alice", PASSWORD)
    send_message(page, "What is Porto like?")
    expect(page.locator(".msg-assistant").last).to_contain_text("port wine")
    session = AgentSession.objects.get(user=alice)
    assert session.title == ""  # the final frame came before any title

    AgentSession.objects.filter(pk=session.pk).update(title="Porto in a nutshell")  # as the worker would

    expect(page.locator(f"#session-{session.session_id}")).to_contain_text(
        "Porto in a nutshell", timeout=8000
    )
    expect(page.locator("#thread-title")).to_have_text("Porto in a nutshell")
