"""Every page at phone, tablet and desktop sizes, light and dark, in the default setup (the offline
demo model, its banner showing): no sideways scrolling, the key controls on screen, and axe-core
reports no violation.

Excepted: /api/docs, django-ninja's bundled Swagger UI. Its faults are in its own markup (buttons
nested in its operation toggles, no lang, no landmarks, its own colours), which a stylesheet cannot
mend; it is a developer's tool linked from the menu, kept as upstream ships it, and
tests/browser/test_content_security_policy.py checks that it renders. The admin is Django's, and
clean: it is checked below for staff."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.live import sign_in

from .pages import (
    KEY_CONTROLS,
    THEMES,
    VIEWPORTS,
    axe_violations,
    demo_world,
    horizontal_overflow,
    new_context,
    off_the_window,
)

SHOTS = os.environ.get("SCREENSHOTS_DIR")  # set it to look at every page


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_page_fits_the_window_and_axe_finds_nothing(
    browser, asgi_server, demo_model, alice, viewport, theme
):
    world = demo_world(alice)
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        page.goto("/login/")
        problems += [f"login: {v}" for v in axe_violations(page)]
        if overflow := horizontal_overflow(page):
            problems.append(f"login: {overflow}px wider than the window")
        sign_in(page, "alice", PASSWORD)
        for name, url in world.urls.items():
            page.goto(url)
            page.wait_for_load_state("load")
            if SHOTS:
                page.screenshot(
                    path=f"{SHOTS}/{viewport}-{theme}-{name.replace(' ', '-')}.png", full_page=True
                )
            if overflow := horizontal_overflow(page):
                problems.append(f"{name}: {overflow}px wider than the window")
            for selector in KEY_CONTROLS[name]:
                if problem := off_the_window(page, selector):
                    problems.append(f"{name}: {problem}")
            problems += [f"{name}: {v}" for v in axe_violations(page)]
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", ["phone", "tablet"])
def test_the_top_menu_opens_on_small_screens_and_every_entry_is_on_screen(
    browser, asgi_server, demo_model, staff, viewport
):
    context = new_context(browser, asgi_server, viewport, "light")
    page = context.new_page()
    try:
        sign_in(page, "ops", PASSWORD)
        toggle = page.get_by_role("button", name="Menu")
        if viewport == "phone":
            expect(toggle).to_be_visible()
            expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
            toggle.click()
            expect(toggle).to_have_attribute("aria-expanded", "true")
        for name in ["Chat", "Memories", "Runs", "API keys", "Your data", "Admin"]:
            link = page.locator("#site-nav").get_by_role("link", name=name, exact=True)
            expect(link).to_be_in_viewport()
        expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
        assert horizontal_overflow(page) == 0
    finally:
        context.close()


def test_on_a_phone_with_the_demo_banner_the_chat_list_and_memory_panel_open_full_size(
    browser, asgi_server, demo_model, alice
):
    world = demo_world(alice)
    context = new_context(browser, asgi_server, "phone", "light")
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto(f"/chats/{world.session_id}/")
        expect(page.locator("#demo-banner")).to_be_visible()
        # The conversation first: the thread and the composer fill the screen under the bars.
        expect(page.locator("#composer textarea")).to_be_in_viewport()
        expect(page.locator("#composer .btn-send")).to_be_in_viewport()
        assert page.locator("#thread").bounding_box()["height"] > 300

        page.get_by_role("button", name="Chats").click()
        sessions = page.locator(".chat-sessions")
        expect(sessions.get_by_role("searchbox", name="Search chats")).to_be_in_viewport()
        expect(page.locator(f"#session-{world.session_id}")).to_be_in_viewport()
        assert sessions.bounding_box()["height"] > 300
        expect(page.locator("#composer")).to_be_hidden()

        page.get_by_role("button", name="Memory").click()
        panel = page.locator("#memory-panel")
        expect(panel.locator(".memory").first).to_be_in_viewport()
        assert panel.bounding_box()["height"] > 300

        page.get_by_role("button", name="Conversation").click()
        expect(page.locator("#composer textarea")).to_be_in_viewport()
        assert horizontal_overflow(page) == 0
    finally:
        context.close()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_admin_fits_the_window_and_axe_finds_nothing(
    browser, asgi_server, demo_model, staff, alice, viewport, theme
):
    from memory_app.models import Memory
    from sessions_app.models import AgentSession, Run

    world = demo_world(alice)
    session = AgentSession.objects.get(session_id=world.session_id)
    run = Run.objects.get(run_id=world.run_id)
    memory = Memory.objects.get(memory_id=world.memory_id)
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "ops", PASSWORD)
        for url in [
            "/admin/",
            "/admin/memory_app/memory/",
            "/admin/memory_app/memory/add/",
            # Change pages with read-only inlines (the runs, messages, timeline, a memory's changes).
            f"/admin/sessions_app/agentsession/{session.pk}/change/",
            f"/admin/sessions_app/run/{run.pk}/change/",
            f"/admin/memory_app/memory/{memory.pk}/change/",
        ]:
            page.goto(url)
            # Excepted on a phone: the change pages' inline tables, Django's own, scroll a few pixels
            # past the window (the page's own content still fits).
            wide_ok = viewport == "phone" and url.endswith("/change/")
            if (overflow := horizontal_overflow(page)) and not wide_ok:
                problems.append(f"{url}: {overflow}px wider than the window")
            problems += [f"{url}: {v}" for v in axe_violations(page)]
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def _nav_rows(page) -> int:
    """How many rows the top bar's entries (its links and buttons) take."""
    tops = page.eval_on_selector_all(
        "#topbar a, #topbar button, #topbar select",
        "els => els.filter(e => e.offsetParent).map(e => Math.round(e.getBoundingClientRect().top / 8))",
    )
    return len(set(tops))


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_staff_pages_fit_the_window_and_axe_finds_nothing(
    browser, asgi_server, demo_model, staff, alice, viewport, theme
):
    """The status page (with the processes a real deployment shows: long host names, a stopped one),
    and the memory editor opened on another person's memories with its merge dry run, for an operator."""
    from django.utils import timezone

    from agentapp.observability import services as heartbeats

    demo_world(alice)
    host = "ip-172-31-44-127.eu-west-1.compute.internal"
    for kind, pid in [("web", 412345), ("worker", 412346), ("web", 412399)]:
        name = f"{kind}:{host}:{pid}" if kind == "web" else f"{kind}:celery@{host}:{pid}"
        heartbeats.heartbeat_beat(name=name, kind=kind, hostname=host, pid=pid, started_at=timezone.now())
    heartbeats.heartbeat_stop(name=f"web:{host}:412399")
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "ops", PASSWORD)
        for url in ["/status/", "/memories/?user=alice"]:
            page.goto(url)
            if viewport == "desktop" and (tops := _nav_rows(page)) > 1:
                problems.append(f"{url}: the top bar wraps onto {tops} rows")
            if overflow := horizontal_overflow(page):
                problems.append(f"{url}: {overflow}px wider than the window")
            problems += [f"{url}: {v}" for v in axe_violations(page)]
    finally:
        context.close()
    assert not problems, "\n".join(problems)
