"""What the page tests share: the sizes and themes every page is checked at, a signed-in person with
a real history (made by the offline demo model, the default setup), axe-core and the overflow check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"

VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "tablet": {"width": 900, "height": 1200},
    "desktop": {"width": 1366, "height": 900},
}
THEMES = ("light", "dark")


@dataclass
class World:
    """What alice has, once the demo model has answered her twice."""

    session_id: str
    run_id: str
    event_pk: int
    memory_id: str
    urls: dict[str, str] = field(default_factory=dict)


def demo_world(alice) -> World:
    """Two real turns through the app's agent on the offline demo model: a session, runs with their
    timelines, memories with their history; and an API key."""
    from agentapp import app_agent
    from apikeys.services import apikey_create
    from memory_app.models import Memory
    from sessions_app import services
    from sessions_app.models import Run, RunEvent

    agent = app_agent.agent()
    agent.run("My name is Sarah and I prefer email over phone.", user_id="alice", session_id="sarah-thread")
    agent.run("What do you know about me?", user_id="alice", session_id="sarah-thread")
    apikey_create(user=alice, name="billing backend")
    run = Run.objects.filter(session__session_id="sarah-thread").order_by("created_at").first()
    assert run is not None
    # A second version of the first turn, then the first shown again: the chat shows "1/2".
    agent.run_pending(services.run_regenerate(run=run).run_id)
    services.run_version_show(run=run)
    event = RunEvent.objects.filter(run=run).order_by("pk").first()
    assert event is not None
    memory = Memory.objects.filter(user=alice).order_by("created_at").first()
    assert memory is not None
    world = World(session_id="sarah-thread", run_id=run.run_id, event_pk=event.pk, memory_id=memory.memory_id)
    world.urls = {
        "home": "/",
        "chat": f"/chats/{world.session_id}/",
        "memories": "/memories/",
        "memory history": f"/memories/{world.memory_id}/history/",
        "runs": "/runs/",
        "run": f"/runs/{world.run_id}/",
        "run context": f"/runs/{world.run_id}/context/",
        "run event": f"/runs/{world.run_id}/events/{world.event_pk}/",
        "session timeline": f"/sessions/{world.session_id}/timeline/",
        "settings": "/settings/",
        "api keys": "/settings/api-keys/",
        "your data": "/settings/data/",
        "not found": "/chats/does-not-exist/",
    }
    return world


# What each page is for, which must be on it and within the window's width at every size.
KEY_CONTROLS = {
    "home": ["#composer textarea", "#composer .btn-send"],
    "chat": ["#composer textarea", "#composer .btn-send", "#thread-title", ".versions", ".btn-edit"],
    "memories": ["#memory-new-text", "#memory-add button[type=submit]", "#memory-filters input[type=search]"],
    "memory history": [".mem-history-panel h2", ".mem-changes"],
    # Wide tables and the time axis scroll sideways inside their own box, which must fit.
    "runs": [".runs-card", ".filters button[type=submit]"],
    "run": ["#run-status", ".tl-card .tl-scroll"],
    "run context": [".ctx .stack"],
    "run event": [".tl-detail"],
    "session timeline": ["#token-chart", ".tl-card .tl-scroll"],
    "settings": ["#about_you", "#how_to_respond", "#review_memories", "#settings-save"],
    "api keys": ["input[name=name]", ".apikey-create button[type=submit]"],
    "your data": ["#export-link", "#erase-form button[type=submit]"],
    "not found": [".error-page h1"],
}


def off_the_window(page, selector: str) -> str | None:
    """Why the element is not usable where it is (missing, hidden, sticking out sideways), or None."""
    locator = page.locator(selector).first
    if not locator.count() or not locator.is_visible():
        return f"{selector} is not shown"
    box = locator.bounding_box()
    width = page.evaluate("window.innerWidth")
    if box is None or box["x"] < 0 or box["x"] + box["width"] > width + 0.5:
        return f"{selector} sticks out of the window ({box})"
    return None


def new_context(browser, base_url: str, viewport: str, theme: str):
    context = browser.new_context(
        base_url=base_url, viewport=VIEWPORTS[viewport], color_scheme=theme, reduced_motion="reduce"
    )
    context.set_default_timeout(10_000)
    return context


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.x A/AA and best-practice violations on the page as it is, one line each.

    Injected through the DevTools protocol, which the page's Content-Security-Policy does not govern.
    """
    if not AXE.exists():  # pragma: no cover - vendored
        pytest.fail(f"axe-core missing at {AXE}")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ["violations"]});
          return r.violations.map(v => `${v.id} (${v.impact}): ${v.help} at ` +
            v.nodes.slice(0, 4).map(n => n.target.join(" ") + (n.failureSummary ?
              " [" + n.failureSummary.replace(/\\s+/g, " ").slice(0, 160) + "]" : "")).join(" | "));
        }"""
    )
    return results


def settled_problems(page, where: str) -> list[str]:
    """axe-core's violations and any sideways scrolling, once htmx has settled every swap (while it
    settles, a swapped-in element briefly wears the attributes of the one it replaced)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")).to_have_count(0)
    problems = [f"{where}: {v}" for v in axe_violations(page)]
    if overflow := horizontal_overflow(page):
        problems.append(f"{where}: {overflow}px wider than the window")
    return problems
