"""The pure layout math of the run timeline: time axis, bars, stacked token bar, the per-turn chart.

Also how a recorded model request splits into context sections, and the redaction
of anything that looks like a credential. No database, no templates: every
function takes plain values and returns plain values, so it is tested alone.
Percentages and coordinates are returned as preformatted strings so the
templates never localise a float into "12,5%".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentapp.agent.prompt import estimate_tokens

MIN_BAR_PCT = 0.6  # an instantaneous event still gets a visible tick
MAX_SLOT = 48.0  # px per turn in the token chart, so a short session does not draw slabs

# --- redaction ---------------------------------------------------------------------

_SECRET_PATTERNS = (
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"), "sk-[redacted]"),
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=\-]{6,}"), "Bearer [redacted]"),
    (
        re.compile(r"(?i)((?:api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{6,}"),
        r"\1[redacted]",
    ),
)


def redact(text: str) -> str:
    """Masks API keys and bearer tokens; a defence in depth, payloads should not hold any."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def pretty(value: Any) -> str:
    """A payload value as readable, redacted text: JSON strings are parsed and indented."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return redact(value)
        if isinstance(value, str):
            return redact(value)
    return redact(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str))


# --- time axis and bars ----------------------------------------------------------------


def ms_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() * 1000


def _pct(value: float) -> str:
    return f"{value:.3f}"


@dataclass(frozen=True)
class Bar:
    offset_ms: float
    duration_ms: float | None
    left: str  # percent of the axis, formatted
    width: str

    @property
    def style(self) -> str:
        return f"left:{self.left}%;width:{self.width}%"


def bar(*, start_ms: float, end_ms: float | None, total_ms: float) -> Bar:
    """A bar from `start_ms` to `end_ms` (ms after the axis start) on an axis `total_ms` long."""
    total_ms = max(total_ms, 1.0)
    start_ms = min(max(start_ms, 0.0), total_ms)
    duration = None if end_ms is None else max(end_ms - start_ms, 0.0)
    left = start_ms / total_ms * 100
    width = max((duration or 0.0) / total_ms * 100, MIN_BAR_PCT)
    if left + width > 100:
        left = max(100 - width, 0.0)
    return Bar(offset_ms=start_ms, duration_ms=duration, left=_pct(left), width=_pct(min(width, 100.0)))


@dataclass(frozen=True)
class Tick:
    left: str
    label: str


def format_ms(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) < 1000:
        return f"{round(value)} ms"
    if abs(value) < 60_000:
        return f"{value / 1000:.2f} s"
    minutes, seconds = divmod(value / 1000, 60)
    if minutes < 60:
        return f"{int(minutes)} min {int(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)} h {int(minutes)} min"


def nice_step(total: float, count: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `count` intervals over `total`."""
    if total <= 0:
        return 1.0
    raw = total / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def axis_ticks(total_ms: float, count: int = 5) -> list[Tick]:
    total_ms = max(total_ms, 1.0)
    step = nice_step(total_ms, count)
    ticks = []
    value = 0.0
    while value <= total_ms + 1e-9:
        ticks.append(Tick(left=_pct(value / total_ms * 100), label=format_ms(value)))
        value += step
    return ticks


# --- stacked token bar --------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    name: str
    tokens: int
    left: str
    width: str

    @property
    def style(self) -> str:
        return f"left:{self.left}%;width:{self.width}%"


def stacked(parts: Sequence[tuple[str, int]]) -> list[Segment]:
    """Segments side by side whose widths are each part's share of the sum (empty parts dropped)."""
    total = sum(tokens for _, tokens in parts)
    segments = []
    offset = 0.0
    for name, tokens in parts:
        if tokens <= 0 or total <= 0:
            continue
        width = tokens / total * 100
        segments.append(Segment(name=name, tokens=tokens, left=_pct(offset), width=_pct(width)))
        offset += width
    return segments


# --- the per-turn token chart (SVG) ---------------------------------------------------------


@dataclass(frozen=True)
class ChartBar:
    x: str
    y: str
    width: str
    height: str
    value: int
    series: str  # "in" or "out"
    turn: int


@dataclass(frozen=True)
class ChartMarker:
    x: str
    turn: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    max_value: int
    bars: list[ChartBar] = field(default_factory=list)
    markers: list[ChartMarker] = field(default_factory=list)


def token_chart(
    points: Sequence[tuple[int, int]],
    *,
    marked: Sequence[int] = (),
    width: int = 640,
    height: int = 120,
    padding: int = 4,
) -> Chart:
    """Grouped bars (input, output) per turn; `marked` turn indexes get a vertical marker."""
    max_value = max((max(a, b) for a, b in points), default=0)
    if not points:
        return Chart(width=width, height=height, max_value=0)
    slot = min((width - 2 * padding) / len(points), MAX_SLOT)
    bar_width = max(slot * 0.4, 1.0)
    usable = height - 2 * padding
    bars = []
    for turn, values in enumerate(points):
        for index, (series, value) in enumerate(zip(("in", "out"), values, strict=True)):
            bar_height = value / max_value * usable if max_value else 0.0
            x = padding + turn * slot + slot * 0.1 + index * bar_width
            y = height - padding - bar_height
            bars.append(
                ChartBar(
                    x=f"{x:.2f}",
                    y=f"{y:.2f}",
                    width=f"{bar_width:.2f}",
                    height=f"{bar_height:.2f}",
                    value=value,
                    series=series,
                    turn=turn,
                )
            )
    markers = [
        ChartMarker(x=f"{padding + turn * slot + slot:.2f}", turn=turn)
        for turn in marked
        if 0 <= turn < len(points)
    ]
    return Chart(width=width, height=height, max_value=max_value, bars=bars, markers=markers)


# --- the context a model request was given -----------------------------------------------------

SECTION_ORDER = ("instructions", "person", "memories", "summary", "history", "message", "tools")
SECTION_LABELS = {
    "instructions": "Instructions",
    "person": "Your custom instructions",  # the person's settings: about them, how to respond
    "memories": "Memories",
    "summary": "Summary",
    "history": "History",
    "message": "New message",
    "tools": "Tool calls and results",
}


@dataclass
class Section:
    name: str
    label: str
    texts: list[tuple[str, str]] = field(default_factory=list)  # (role, text) as sent
    tokens: int = 0

    @property
    def items(self) -> int:
        return len(self.texts)

    @property
    def chars(self) -> int:
        return sum(len(text) for _, text in self.texts)

    def add(self, role: str, text: str) -> None:
        self.texts.append((role, text))
        self.tokens += estimate_tokens(text)


def _message_text(message: dict[str, Any]) -> str:
    """What a message costs: its content, plus the name and arguments of each tool call it makes."""
    parts = [str(message.get("content") or "")]
    for call in message.get("tool_calls") or []:
        parts.append(f"{call.get('name', '')}({call.get('arguments', '')})")
    return "\n".join(part for part in parts if part)


def _unrecorded_section(index: int, role: str, last_user: int) -> str:
    """Where a message goes in a request recorded without a layout: by its role and place alone."""
    if role == "system":
        return "instructions"
    if index < last_user:
        return "history"
    return "message" if index == last_user else "tools"


def context_sections(messages: Sequence[dict[str, Any]], layout: Sequence[Any] = ()) -> list[Section]:
    """Splits a recorded request into its parts, as the builder that assembled it recorded them
    (`layout`: spans of section, message index, start and end), with token estimates counted as the
    builder counted them, so the first request of a run matches the run's `context` event. Messages
    the layout does not name came after it: tool calls and their results."""
    sections = {name: Section(name, SECTION_LABELS[name]) for name in SECTION_ORDER}
    placed: set[int] = set()
    for span in layout:
        if not isinstance(span, dict) or span.get("section") not in sections:
            continue
        index = span.get("message")
        if not isinstance(index, int) or not 0 <= index < len(messages):
            continue
        message = messages[index]
        start, end = span.get("start") or 0, span.get("end")
        if start == 0 and end is None:
            text = _message_text(message)
        else:
            text = str(message.get("content") or "")[start:end]
        sections[span["section"]].add(str(message.get("role") or ""), text)
        placed.add(index)
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for index, message in enumerate(messages):
        if index in placed:
            continue
        role = str(message.get("role") or "")
        name = "tools" if layout else _unrecorded_section(index, role, last_user)
        sections[name].add(role, _message_text(message))
    return [section for section in sections.values() if section.texts]
