"""One timeline event as the run pages show it: its label, and its detail (messages, the reply,
a tool's arguments and result, how memories were recalled, a memory's before and after), redacted."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from memory_app.models import MemoryChange

from ...models import RunEvent
from .. import layout


def memory_history_url(memory_id: str) -> str:
    """The memory's history in the editor; the editor's list filtered to it if that URL is missing.
    A memory proposed for review (prop_...) has no history: the editor, where it waits, instead."""
    if memory_id.startswith("prop_"):
        return reverse("memory:list") + "#proposal-" + memory_id
    try:
        return reverse("memory:history", args=[memory_id])
    except NoReverseMatch:
        return "/memories/?" + urlencode({"memory": memory_id})


def _messages(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    rows = []
    for message in raw:
        if not isinstance(message, dict):
            continue
        calls = message.get("tool_calls") or []
        rows.append(
            {
                "role": str(message.get("role") or ""),
                "content": layout.redact(str(message.get("content") or "")),
                "tool_call_id": str(message.get("tool_call_id") or ""),
                "tool_calls": [_call(c) for c in calls if isinstance(c, dict)],
            }
        )
    return rows


def _call(call: dict[str, Any]) -> dict[str, str]:
    return {
        "id": str(call.get("id") or ""),
        "name": str(call.get("name") or ""),
        "arguments": layout.pretty(call.get("arguments") or "{}"),
    }


def event_label(event: RunEvent) -> str:
    payload = event.payload or {}
    if event.kind == RunEvent.Kind.CONTEXT:
        return "context assembly"
    if event.kind == RunEvent.Kind.MODEL_REQUEST:
        if event.name == "memory_manager":
            return f"automatic memory update · request {payload.get('round', '')}".strip()
        return f"model request {payload.get('round', '')} · {event.name}".strip()
    if event.kind == RunEvent.Kind.TOOL_CALL:
        return f"tool · {event.name}"
    if event.kind == RunEvent.Kind.MEMORY_UPDATE:
        return f"memory {event.name}"
    if event.kind == RunEvent.Kind.SUMMARY:
        return "session summary update"
    return f"{event.kind} {event.name}".strip()


def event_detail(event: RunEvent, change: MemoryChange | None) -> dict[str, Any]:
    payload = event.payload if isinstance(event.payload, dict) else {}
    detail: dict[str, Any] = {"raw": layout.pretty(payload)}
    request = payload.get("request")
    if isinstance(request, dict):
        detail["messages"] = _messages(request.get("messages"))
    response = payload.get("response")
    if isinstance(response, dict):
        detail["response_text"] = layout.redact(str(response.get("text") or ""))
        detail["response_calls"] = [_call(c) for c in response.get("tool_calls") or [] if isinstance(c, dict)]
    detail["retries"] = [
        {
            **r,
            "after": layout.format_ms(r.get("delay_ms") or 0),
            "reason": layout.redact(str(r.get("reason") or "")),
        }
        for r in payload.get("retries") or []
        if isinstance(r, dict)
    ]
    error = payload.get("error")
    if isinstance(error, dict):
        detail["error"] = layout.redact(str(error.get("message") or ""))
        detail["error_kind"] = str(error.get("kind") or "")
        detail["partial_text"] = layout.redact(str(payload.get("partial_text") or ""))
    if event.kind == RunEvent.Kind.ERROR:
        detail["error"] = layout.redact(str(payload.get("message") or ""))
        detail["error_kind"] = str(payload.get("kind") or "")
    if event.kind == RunEvent.Kind.TOOL_CALL:
        detail["arguments"] = layout.pretty(payload.get("arguments") or "{}")
        detail["result"] = layout.redact(str(payload.get("result") or ""))
        detail["tool_call_id"] = str(payload.get("tool_call_id") or "")
    if event.kind == RunEvent.Kind.CONTEXT:
        sections = [s for s in payload.get("sections") or [] if isinstance(s, dict)]
        detail["sections"] = [
            {**s, "label": layout.SECTION_LABELS.get(str(s.get("name")), str(s.get("name")))}
            for s in sections
        ]
        detail["segments"] = layout.stacked(
            [(str(s.get("name")), int(s.get("tokens") or 0)) for s in sections]
        )
        detail["recall"] = recall_shown(payload.get("recall"))
    if event.kind == RunEvent.Kind.MEMORY_UPDATE:
        memory_id = str(payload.get("memory_id") or "")
        detail["memory_id"] = memory_id
        detail["action"] = str(payload.get("action") or "")
        detail["actor"] = str(payload.get("actor") or "")
        detail["history_url"] = memory_history_url(memory_id)
        after = change.after if change else payload.get("after")
        detail["before"] = _snapshot(change.before if change else None)
        detail["after"] = _snapshot(after)
    return detail


STRATEGY_LABELS = {
    "all": "every memory fit the budget",
    "hybrid": "ranked by meaning, words and recency",
    "words+recency": "ranked by words and recency",
    "recency": "the most recent",
}


def _signals(scored: dict[str, Any]) -> str:
    """One memory's place by each signal, as the run page shows it: "meaning #1 (0.62) · words #3"."""
    parts = []
    if scored.get("meaning_rank") is not None:
        similarity = scored.get("similarity")
        shown = f" ({similarity:.2f})" if isinstance(similarity, int | float) else ""
        parts.append(f"meaning #{scored['meaning_rank']}{shown}")
    if scored.get("words_rank") is not None:
        parts.append(f"words #{scored['words_rank']}")
    if scored.get("recency_rank") is not None:
        parts.append(f"recency #{scored['recency_rank']}")
    return " · ".join(parts)


def recall_shown(value: Any) -> dict[str, Any] | None:
    """How a run's memories were chosen (the context step's `recall`), for the run page."""
    if not isinstance(value, dict):
        return None
    memories = [m for m in value.get("memories") or [] if isinstance(m, dict)]
    strategy = str(value.get("strategy") or "")
    return {
        "strategy": strategy,
        "label": STRATEGY_LABELS.get(strategy, strategy),
        "note": str(value.get("note") or ""),
        "total": value.get("total"),
        "embedding_ms": value.get("embedding_ms"),
        "scores": {
            str(m.get("memory_id")): {
                "score": m.get("score"),
                "signals": _signals(m),
            }
            for m in memories
        },
    }


def _snapshot(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {"text": layout.redact(str(value.get("text") or "")), "topics": list(value.get("topics") or [])}
