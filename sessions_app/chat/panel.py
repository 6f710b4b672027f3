"""What the chat shows beside a thread: the memory panel, and the chips of the memories a run wrote."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from memory_app.selectors import memories_active, proposals_for_user

from ..models import Run
from ..selectors import run_recall_strategy

MEMORY_PANEL_LIMIT = 50
CHIP_LABELS = {
    "create": "remembered",
    "update": "updated memory",
    "delete": "forgot",
    "propose": "proposed",  # a memory waiting for the person's review (their settings ask for it)
    "discard": "discarded",  # a proposal the person did not keep
}


def memory_panel(*, user_pk: int, last_run: Run | None) -> dict[str, Any]:
    """The panel's context: the memories the last answer was given first (recall may have picked
    old ones), marked, then the person's newest others. When all of the person's memories fitted
    the budget, none was picked: the panel says all were given and marks none."""
    return {**_remembered(user_pk=user_pk, last_run=last_run), **_waiting(user_pk=user_pk, last_run=last_run)}


def _remembered(*, user_pk: int, last_run: Run | None) -> dict[str, Any]:
    used_ids = [str(i) for i in (last_run.memories_used or ())] if last_run else []
    active = memories_active(user_pk=user_pk)
    if used_ids and last_run is not None and run_recall_strategy(run=last_run) == "all":
        return {"memories": active[:MEMORY_PANEL_LIMIT], "used_ids": set(), "all_given": len(used_ids)}
    used = {m.memory_id: m for m in active.filter(memory_id__in=used_ids)}
    first = [used[i] for i in used_ids if i in used][:MEMORY_PANEL_LIMIT]
    rest = active.exclude(memory_id__in=used_ids)[: MEMORY_PANEL_LIMIT - len(first)]
    return {"memories": [*first, *rest], "used_ids": set(used), "all_given": 0}


def _waiting(*, user_pk: int, last_run: Run | None) -> dict[str, Any]:
    """The memories proposed for the person's review, listed above the others with Keep, Edit and
    Discard (memory_app's review partial); `last_run_id` brings the marks back after a decision."""
    waiting = proposals_for_user(user_pk=user_pk)
    shown = list(waiting[:MEMORY_PANEL_LIMIT])
    return {
        "proposals": shown,
        "proposals_count": len(shown) if len(shown) < MEMORY_PANEL_LIMIT else waiting.count(),
        "last_run_id": last_run.run_id if last_run is not None else "",
    }


def chip(action: str, text: str) -> SafeString:
    """A discreet note of one memory write ("remembered: ..."), the same live and on reload."""
    context = {"label": CHIP_LABELS.get(action, action), "text": text}
    return SafeString(render_to_string("sessions_app/chat.html#chip", context))
