"""A person opens a run in a real browser, reads a row's detail and the context view."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.live import sign_in


def test_a_person_opens_a_run_a_rows_detail_and_its_context_view(page, alice, tool_run, tmp_path):
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/runs/{tool_run.run_id}/")

    rows = page.locator("#timeline > li.tl-row")
    assert rows.count() == 5
    labels = [label.strip() for label in page.locator("#timeline .tl-label").all_inner_texts()]
    assert labels[1:3] == ["model request 1 · gpt-test", "tool · add_memory"]
    tool_row = page.locator("#timeline li[data-kind=tool_call]")
    detail = tool_row.locator(".tl-detail")
    assert not detail.is_visible()
    tool_row.locator("summary.tl-grid").click()
    assert detail.is_visible()
    assert "User likes green tea" in detail.locator("pre.tool-args").inner_text()
    bar = tool_row.locator(".tl-bar").bounding_box()
    assert bar is not None and bar["width"] > 0 and bar["height"] > 0
    timeline_shot = tmp_path / "run-timeline.png"
    page.screenshot(path=str(timeline_shot), full_page=True)

    page.click("text=Context view →")
    page.wait_for_url(f"**/runs/{tool_run.run_id}/context/")
    cards = page.locator("section.ctx")
    assert cards.count() == 2
    second = cards.nth(1)
    tokens = [int(t) for t in second.locator("td.section-tokens").all_inner_texts()]
    assert sum(tokens) == int(second.locator("code.ctx-total").inner_text())
    assert "Tool calls and results" in second.inner_text()
    assert second.locator(".stack span").count() == len(tokens)
    context_shot = tmp_path / "run-context.png"
    page.screenshot(path=str(context_shot), full_page=True)

    for shot in (timeline_shot, context_shot):
        assert shot.exists() and shot.stat().st_size > 10_000
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_session_timeline_draws_its_chart_and_links_each_run(page, alice, tool_run, tmp_path):
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/runs/{tool_run.run_id}/")
    page.click("#run-facts >> text=alice-thread")
    page.wait_for_url("**/sessions/alice-thread/timeline/")
    chart = page.locator("#token-chart")
    assert chart.is_visible() and chart.locator("rect").count() == 2
    shot = tmp_path / "session-timeline.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.click(f"#session-timeline li[data-run={tool_run.run_id}] a")
    page.wait_for_url(f"**/runs/{tool_run.run_id}/")
    assert page.locator("#run-status").inner_text() == "completed"
