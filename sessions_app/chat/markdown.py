"""Model output to safe HTML: Markdown rendered (code highlighted by Pygments), then sanitised."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from agentapp.platform.storable import storable

# What a reply may contain once rendered: text formatting, lists, code, tables, links. No images
# (a model-written <img> is a tracking pixel waiting to happen), no attributes htmx could act on.
ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
# Classes only on code (Pygments' token classes, the language): raw HTML in the model's text is
# never parsed (html=False), so these come from the renderer alone, and nh3 checks them anyway.
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "pre": {"class", "data-lang", "tabindex", "role", "aria-label"},
    "code": {"class"},
    "span": {"class"},
}
MAX_LANGUAGE_CHARS = 40
TABLE_DELIMITER = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
# A code block may scroll sideways: the keyboard can reach it (axe's scrollable-region-focusable),
# and a screen reader names it. Only the renderer writes tags (html=False), so every <pre> is ours.
PRE_TAG = re.compile(r"<pre(\s[^>]*)?>")
PRE_FOCUSABLE = r'<pre\1 tabindex="0" role="group" aria-label="Code">'


def _highlight(code: str, language: str, _attrs: Any) -> str:
    """A fenced block with a known language: Pygments' spans (styled by static/css/highlight.css),
    labelled with the language. Anything else: "" (markdown-it escapes it as plain code)."""
    language = language.strip()[:MAX_LANGUAGE_CHARS]
    if not language:
        return ""
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        return ""
    spans = highlight(code, lexer, _formatter())
    label = escape(language)
    return f'<pre class="highlight" data-lang="{label}"><code class="language-{label}">{spans}</code></pre>\n'


@cache
def _formatter() -> HtmlFormatter[str]:
    return HtmlFormatter(nowrap=True)


@cache
def _markdown() -> MarkdownIt:
    # html=False: raw HTML in the model's text is shown as text, never parsed.
    options = {"html": False, "linkify": False, "highlight": _highlight}
    return MarkdownIt("commonmark", options).enable(["table", "strikethrough"])


def render_markdown(text: str, *, streaming: bool = False) -> SafeString:
    """Markdown to HTML, then sanitised: whatever the model writes cannot script the page.

    `streaming`: the text is a reply still arriving. An unfinished code fence already renders as
    code to the end; a table row still being written is held back until its line ends, so it does
    not flash as a paragraph of pipes.
    """
    text = storable(text or "")  # a model's lone surrogate: U+FFFD, which nh3 (UTF-8) can take
    text = _complete_part(text) if streaming else text
    html = PRE_TAG.sub(PRE_FOCUSABLE, _markdown().render(text))
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return mark_safe(clean)  # sanitised by nh3 just above


def _complete_part(text: str) -> str:
    """A reply still arriving, without the table it ends in until that table has its delimiter row
    (`|---|`) and without the row still being written: what shows is what will stay."""
    lines = text.split("\n")
    if lines and lines[-1].lstrip().startswith("|"):
        lines.pop()  # a row not finished yet
    start = len(lines)
    while start and lines[start - 1].lstrip().startswith("|"):
        start -= 1
    table = lines[start:]
    if table and not (len(table) >= 2 and TABLE_DELIMITER.match(table[1].strip())):
        del lines[start:]
    return "\n".join(lines)
