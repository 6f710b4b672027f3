"""Markdown rendering of replies and the SSE frame format."""

from __future__ import annotations

from sessions_app.chat.markdown import render_markdown
from sessions_app.chat.sse import sse_frame


def test_markdown_renders_formatting_code_tables_and_safe_links():
    html = render_markdown("**b** `x<1`\n\n|a|b|\n|-|-|\n|1|2|\n\n[site](https://example.com)")
    assert "<strong>b</strong>" in html and "<code>x&lt;1</code>" in html and "<table>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_markdown_cannot_inject_script_handlers_or_htmx():
    html = render_markdown(
        '<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<div hx-get="/x" onclick="y">z</div>'
        "\n\n![img](https://tracker.example/p.png)"
    )
    assert (
        "<script" not in html and "<div" not in html and "<img" not in html and 'href="javascript' not in html
    )
    assert "&lt;div hx-get=" in html  # shown as text, which neither the browser nor htmx acts on


def test_a_frame_puts_each_line_in_its_own_data_field():
    assert sse_frame("final", "<p>a</p>\n<p>b</p>") == b"event: final\ndata: <p>a</p>\ndata: <p>b</p>\n\n"


def test_a_frame_may_carry_the_id_a_client_resumes_from():
    assert sse_frame("RunContent", "{}", id=7) == b"id: 7\nevent: RunContent\ndata: {}\n\n"


def test_code_with_a_known_language_is_highlighted_and_labelled():
    html = render_markdown("```python\ndef f():\n    return '<x>'\n```")
    assert '<pre class="highlight" data-lang="python" tabindex="0" role="group" aria-label="Code">' in html
    assert '<code class="language-python">' in html
    assert '<span class="k">def</span>' in html and "&lt;x&gt;" in html and "<x>" not in html


def test_code_in_an_unknown_language_is_plain_escaped_code():
    html = render_markdown('```nosuchlanguage" onclick="x\n<b>1</b>\n```')
    assert (
        '<pre tabindex="0" role="group" aria-label="Code"><code' in html
        and "&lt;b&gt;1&lt;/b&gt;" in html
        and "onclick=" not in html.replace("&quot;", "")
    )


def test_an_unfinished_code_fence_renders_as_code_while_streaming():
    html = render_markdown("Look:\n\n```python\nx = 1\ny =", streaming=True)
    assert "<p>Look:</p>" in html and 'data-lang="python"' in html and "y" in html


def test_a_table_still_arriving_waits_for_its_delimiter_row_and_shows_finished_rows_only():
    assert "|" not in render_markdown("Here:\n\n| a | b |\n|--", streaming=True)
    html = render_markdown("Here:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4", streaming=True)
    assert "<th>a</th>" in html and "<td>2</td>" in html and "3" not in html
    assert "<td>4</td>" in render_markdown("| a | b |\n|---|---|\n| 3 | 4 |\n", streaming=True)
