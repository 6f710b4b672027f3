"""What the page tests share: the sizes and themes every page is checked at, a signed-in person with
a real history (made by the offline demo model, the default setup), axe-core and the overflow check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

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
    from sessions_app.models import Run, RunEvent

    agent = app_agent.agent()
    agent.run("My name is Sarah and I prefer email over phone.", user_id="alice", session_id="sarah-thread")
    agent.run("What do you know about me?", user_id="alice", session_id="sarah-thread")
    apikey_create(user=alice, name="billing backend")
    run = Run.objects.filter(session__session_id="sarah-thread").order_by("created_at").first()
    assert run is not None
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
        "api keys": "/settings/api-keys/",
        "your data": "/settings/data/",
        "not found": "/chats/does-not-exist/",
    }
    return world


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
