"""The pieces every request to a model is made of, whoever makes it (the turn, the memory manager,
the summary fold): how a part is measured (`estimate_tokens`), separated (`SEPARATOR`) and located
(`Span`), and how memories and a summary are written into a prompt."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .records import SessionSummaryRecord, UserMemory

SEPARATOR = "\n\n"  # between the parts of a system message; belongs to no part


def estimate_tokens(text: str) -> int:
    """A provider-neutral estimate (about four characters a token) for the context breakdown."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass(frozen=True)
class Span:
    """One part of a request: message `message` (an index), characters `start` to `end` of its content."""

    section: str
    message: int
    start: int = 0
    end: int | None = None  # None: to the end of the message

    def to_dict(self) -> dict[str, Any]:
        return {"section": self.section, "message": self.message, "start": self.start, "end": self.end}


def render_memories(memories: Sequence[UserMemory]) -> str:
    """One line a memory: its id (for the memory tools), the day it was learned or last confirmed
    (so the model can reason about "when" and about old facts), its text and topics."""
    lines = []
    for memory in memories:
        when = memory.updated_at or memory.created_at
        dated = f" ({when.date().isoformat()})" if when is not None else ""
        if memory.valid_to is not None:  # a past fact, recalled for a message about the past
            since = f"{memory.valid_from.date().isoformat()} to " if memory.valid_from else "until "
            dated = f" ({since}{memory.valid_to.date().isoformat()}, no longer true)"
        topics = f" (topics: {', '.join(memory.topics)})" if memory.topics else ""
        lines.append(f"- [{memory.memory_id}]{dated} {memory.memory}{topics}")
    return "<memories>\n" + "\n".join(lines) + "\n</memories>"


def render_summary(summary: SessionSummaryRecord) -> str:
    return f"<session_summary>\n{summary.summary}\n</session_summary>"
