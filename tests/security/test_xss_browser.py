"""In a real browser (Debian chromium): pages full of stored payloads, hovered and clicked, run no script.

The pages' Content-Security-Policy is bypassed here, so these tests measure the escaping alone (a
payload that reached the DOM would run); tests/browser/test_content_security_policy.py checks the
policy, the second layer.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.live import sign_in

from .hostile import ALL, PAYLOADS, hostile_build

FIRE_EVERY_HANDLER = """() => {
  for (const el of document.querySelectorAll("body *")) {
    for (const type of ["mouseover", "mouseenter", "focus", "click"]) {
      const clickable = ["SUMMARY", "IMG", "SVG"].includes(el.tagName);  // clicks that cannot navigate
      if (type === "click" && !clickable) continue;
      el.dispatchEvent(new MouseEvent(type, {bubbles: true}));
    }
  }
  return document.querySelectorAll("body *").length;
}"""
JAVASCRIPT_LINKS = """() => [...document.querySelectorAll("[href], [src], [action]")]
  .map(el => el.getAttribute("href") || el.getAttribute("src") || el.getAttribute("action"))
  .filter(url => url.trim().toLowerCase().startsWith("javascript:"))"""


pytestmark = pytest.mark.usefixtures("no_summaries")


@pytest.fixture
def page(browser, asgi_server):
    context = browser.new_context(
        base_url=asgi_server, viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _inert(page, dialogs: list[str], url: str) -> None:
    page.wait_for_load_state("networkidle")
    for text in page.get_by_text("__xss").all()[:20]:  # real pointer moves over the payloads' text
        if text.is_visible() and text.get_attribute("id") != "reply-announcer":  # 1 px, for screen readers
            text.hover()
    assert page.evaluate(FIRE_EVERY_HANDLER) > 0
    assert page.evaluate(JAVASCRIPT_LINKS) == [], url
    assert page.evaluate("typeof window.__xss") == "undefined", url
    assert dialogs == [], url


def test_stored_payloads_run_no_script_on_any_page(page, alice, make_agent, fake_openai, app_model):
    hostile = hostile_build(user=alice, make_agent=make_agent, fake_openai=fake_openai)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "alice", PASSWORD)
    for url in hostile.pages():
        page.goto(url)
        _inert(page, dialogs, url)

    # the memory editor's history opens in place, through htmx
    page.goto("/memories/")
    page.locator(f"#memory-{hostile.memory.memory_id} a", has_text="History").first.click()
    expect(page.locator("#memory-history")).to_contain_text("__xss")
    _inert(page, dialogs, "/memories/ with its history open")


def test_a_streamed_reply_full_of_payloads_runs_no_script(page, alice, app_model):
    app_model.reply(tool_calls=[("add_memory", {"memory": f"likes {PAYLOADS[1]}", "topics": [PAYLOADS[0]]})])
    app_model.reply(text=f"{ALL} [x](javascript:window.__xss=1)", chunk_delay=0.01)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "alice", PASSWORD)
    page.fill("#composer textarea", ALL)
    page.press("#composer textarea", "Enter")
    expect(page.locator(".msg-assistant.status-completed")).to_contain_text("onmouseover")
    _inert(page, dialogs, "the chat after a streamed reply")
    page.reload()
    _inert(page, dialogs, "the chat reloaded")

    # the control: a payload that did reach the DOM live would be noticed
    page.evaluate(
        """() => document.body.insertAdjacentHTML("beforeend", '<img src=x onerror="window.__xss=1">')"""
    )
    page.wait_for_function("typeof window.__xss !== 'undefined'")
