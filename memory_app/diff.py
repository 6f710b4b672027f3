"""Word-level diffs of memory changes, as plain data the templates escape and wrap in <ins>/<del>."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .models import MemoryChange


@dataclass(frozen=True)
class Segment:
    op: str  # "equal", "insert" or "delete"
    text: str


@dataclass
class ChangeView:
    change: MemoryChange
    segments: list[Segment]
    topics_added: list[str] = field(default_factory=list)
    topics_removed: list[str] = field(default_factory=list)
    topics_kept: list[str] = field(default_factory=list)


def word_diff(before: str, after: str) -> list[Segment]:
    """The words of `after` against `before`: runs of kept, deleted and inserted words."""
    old, new = before.split(), after.split()
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment("equal", " ".join(old[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            segments.append(Segment("delete", " ".join(old[i1:i2])))
        if tag in ("insert", "replace"):
            segments.append(Segment("insert", " ".join(new[j1:j2])))
    return segments


def change_view(change: MemoryChange) -> ChangeView:
    before = change.before or {}
    after = change.after or {}
    if change.before is None or change.after is None:
        # A create, delete or restore: the whole text is the state that appeared or went away.
        text = after.get("text") or before.get("text") or ""
        op = "delete" if change.after is None else "insert"
        return ChangeView(
            change, [Segment(op, text)], topics_kept=list(after.get("topics") or before.get("topics") or [])
        )
    old_topics, new_topics = list(before.get("topics") or []), list(after.get("topics") or [])
    return ChangeView(
        change,
        word_diff(before.get("text", ""), after.get("text", "")),
        topics_added=[t for t in new_topics if t not in old_topics],
        topics_removed=[t for t in old_topics if t not in new_topics],
        topics_kept=[t for t in new_topics if t in old_topics],
    )
