"""The run pages in a browser: the event page reads as a heading, not as a disclosure."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.live import sign_in


def test_the_event_pages_heading_has_no_disclosure_triangle(desktop, alice, demo_model):
    from agentapp import app_agent
    from sessions_app.models import RunEvent

    app_agent.agent().run("Hello there", user_id="alice", session_id="s1")
    event = RunEvent.objects.order_by("pk").first()
    page = desktop
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/runs/{event.run.run_id}/events/{event.pk}/")
    heading = page.get_by_role("heading", level=1)
    assert heading.evaluate("h => getComputedStyle(h, '::before').content") == "none"
    summary_label = page.locator("summary .tl-label")
    assert summary_label.count() == 0 or summary_label.first.evaluate(
        "h => getComputedStyle(h, '::before').content"
    ).startswith('"')
