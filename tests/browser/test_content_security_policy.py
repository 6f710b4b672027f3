"""Every page works under its Content-Security-Policy in a real browser: no violation is reported
while the chat streams, forms reset, the timeline draws, the admin edits and the API docs render."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from memory_app import services as memory_services
from memory_app.models import Memory
from sessions_app.models import Run
from tests.conftest import PASSWORD
from tests.live import sign_in

# Installed before any page script: Playwright injects it, so the policy does not apply to it.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


pytestmark = pytest.mark.usefixtures("no_summaries")


@pytest.fixture(
    params=[{"width": 1280, "height": 900}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)
def watched_page(request, browser, asgi_server):
    context = browser.new_context(base_url=asgi_server, viewport=request.param)
    context.set_default_timeout(10_000)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def _assert_clean(page, where: str) -> None:
    assert _violations(page) == [], where
    assert not [e for e in page.errors if "Content Security Policy" in e or "htmx" in e.lower()], where


def test_the_chat_streams_and_its_forms_work_under_the_policy(watched_page, django_user_model, app_model):
    page = watched_page
    django_user_model.objects.create_user("alice", password=PASSWORD)
    app_model.reply(text="Hello there, streamed under a strict policy.", chunk_delay=0.02)
    sign_in(page, "alice", PASSWORD)
    page.fill("#composer textarea", "Hi")
    page.press("#composer textarea", "Enter")
    expect(page.locator(".msg-assistant.status-completed")).to_contain_text("strict policy.")
    app_model.reply(text="Second reply.")
    page.fill("#composer textarea", "Again")
    page.press("#composer textarea", "Enter")
    expect(page.locator(".msg-assistant.status-completed")).to_have_count(2)
    expect(page.locator("#composer textarea")).to_have_value("")  # data-reset-on-success
    _assert_clean(page, "chat")

    page.goto("/memories/")
    page.fill("#memory-new-text", "Likes strict policies")
    page.click("#memory-add button[type=submit]")
    expect(page.locator("#memory-items")).to_contain_text("Likes strict policies")
    expect(page.locator("#memory-new-text")).to_have_value("")
    _assert_clean(page, "memories")

    run = Run.objects.order_by("created_at").first()
    page.goto(f"/runs/{run.run_id}/")
    expect(page.locator("#run-status")).to_have_text("completed")
    page.goto(f"/runs/{run.run_id}/context/")
    page.goto(f"/sessions/{run.session.session_id}/timeline/")
    _assert_clean(page, "timeline")


def test_the_admin_and_the_api_docs_work_under_the_policy(watched_page, django_user_model):
    page = watched_page
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    memory_services.memory_create(user_pk=root.pk, text="Root likes tea", actor="person")
    sign_in(page, "root", PASSWORD)

    page.goto("/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto("/admin/memory_app/memory/")
    expect(page.locator("#result_list")).to_contain_text("Root likes tea")
    page.goto(f"/admin/memory_app/memory/{Memory.objects.get().pk}/change/")
    expect(page.locator("#content")).to_be_visible()
    _assert_clean(page, "admin")

    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    _assert_clean(page, "API docs")


def test_the_policy_blocks_an_inline_handler_that_reached_the_page(watched_page, django_user_model):
    """The second layer: markup that got past the escaping still runs no script."""
    page = watched_page
    django_user_model.objects.create_user("alice", password=PASSWORD)
    sign_in(page, "alice", PASSWORD)

    page.evaluate(
        """() => document.body.insertAdjacentHTML("beforeend", '<img src=x onerror="window.__xss=1">')"""
    )

    for _ in range(40):  # the browser reports the violation when the image fails to load
        if _violations(page):
            break
        page.wait_for_timeout(50)
    assert any(v.startswith("script-src-attr blocked inline") for v in _violations(page)), _violations(page)
    assert page.evaluate("typeof window.__xss") == "undefined"
