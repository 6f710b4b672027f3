"""Word-level diffs of memory changes, as plain data the templates escape and wrap in <ins>/<del>."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from .models import Memory, MemoryChange


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
    merged_from: list[Memory] = field(default_factory=list)  # a merge's new memory: what it replaced
    merged_into: Memory | None = None  # a merged-away memory: what replaced it


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


def _merge_links(change: MemoryChange) -> dict[str, Any]:
    if change.action != MemoryChange.Action.MERGE:
        return {}
    if change.merge_id is not None and change.merge is not None:
        return {"merged_into": change.merge.memory}
    return {"merged_from": [part.memory for part in change.merged_sources.all()]}


def change_view(change: MemoryChange) -> ChangeView:
    before = change.before or {}
    after = change.after or {}
    if change.before is None or change.after is None:
        # A create, delete, restore or merge: the whole text is the state that appeared or went away.
        text = after.get("text") or before.get("text") or ""
        op = "delete" if change.after is None else "insert"
        return ChangeView(
            change,
            [Segment(op, text)],
            topics_kept=list(after.get("topics") or before.get("topics") or []),
            **_merge_links(change),
        )
    old_topics, new_topics = list(before.get("topics") or []), list(after.get("topics") or [])
    return ChangeView(
        change,
        word_diff(before.get("text", ""), after.get("text", "")),
        topics_added=[t for t in new_topics if t not in old_topics],
        topics_removed=[t for t in old_topics if t not in new_topics],
        topics_kept=[t for t in new_topics if t in old_topics],
    )
