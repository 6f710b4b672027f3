"""What the chat shows beside a thread: the memory panel, and the chips of the memories a run wrote."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from memory_app.selectors import memories_active

from ..models import Run

MEMORY_PANEL_LIMIT = 50
CHIP_LABELS = {"create": "remembered", "update": "updated memory", "delete": "forgot"}


def memory_panel(*, user_pk: int, last_run: Run | None) -> dict[str, Any]:
    """The panel's context: the person's newest memories, and those the last answer was given."""
    return {
        "memories": list(memories_active(user_pk=user_pk)[:MEMORY_PANEL_LIMIT]),
        "used_ids": set(last_run.memories_used or ()) if last_run else set(),
    }


def chip(action: str, text: str) -> SafeString:
    """A discreet note of one memory write ("remembered: ..."), the same live and on reload."""
    context = {"label": CHIP_LABELS.get(action, action), "text": text}
    return SafeString(render_to_string("sessions_app/chat.html#chip", context))
