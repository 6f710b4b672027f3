"""A run's stream in AgentOS's shape: each of our events as Agno's event payload (`event`, `run_id`,
`session_id`, `agent_id`, `created_at`; top-level `content` on RunCompleted; a nested `tool` object
on tool events), one `data:` line of JSON per SSE event, as AgentOS and its clients speak it."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from agentapp.observability import metrics
from sessions_app.chat.sse import json_frame
from sessions_app.live import run_follow

# The events Agno has a class for; ours it has not (MemoryUpdated, ModelRetrying, ...) are left out,
# since its client logs each unknown event as an error.
AGNO_EVENTS = frozenset(
    {
        "RunStarted",
        "RunContent",
        "ToolCallStarted",
        "ToolCallCompleted",
        "MemoryUpdateStarted",
        "MemoryUpdateCompleted",
        "SessionSummaryStarted",
        "SessionSummaryCompleted",
        "RunCompleted",
        "RunError",
        "RunCancelled",
    }
)


def _tool_args(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, dict):
        return raw
    try:
        args = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {"arguments": raw}
    return args if isinstance(args, dict) else {"arguments": args}


def agno_event(
    event: str, data: dict[str, Any], *, session_id: str, agent_id: str, agent_name: str
) -> dict[str, Any] | None:
    """One of our stream's events as Agno's payload; None for an event Agno does not know."""
    if event not in AGNO_EVENTS:
        return None
    payload: dict[str, Any] = {
        "event": event,
        "run_id": data.get("run_id"),
        "session_id": data.get("session_id") or session_id,
        "agent_id": agent_id,
        "agent_name": agent_name,
        "created_at": int(time.time()),
    }
    if event == "RunStarted":
        payload.update(model=data.get("model", ""), model_provider=data.get("model_provider", ""))
    elif event == "RunContent":
        payload.update(content=data.get("content", ""), content_type="str")
    elif event == "ToolCallStarted":
        payload["tool"] = {
            "tool_call_id": data.get("tool_call_id"),
            "tool_name": data.get("tool_name"),
            "tool_args": _tool_args(data.get("tool_args")),
        }
    elif event == "ToolCallCompleted":
        payload["tool"] = {
            "tool_call_id": data.get("tool_call_id"),
            "tool_name": data.get("tool_name"),
            "result": data.get("result"),
            "tool_call_error": bool(data.get("is_error")),
        }
        payload["content"] = data.get("result")
    elif event in ("RunCompleted", "RunError", "RunCancelled"):
        output = data.get("output") or {}
        if event == "RunCompleted":
            payload.update(content=output.get("content", ""), content_type="str")
            payload["metrics"] = output.get("metrics") or None
        elif event == "RunError":
            payload.update(content=data.get("error") or output.get("error") or "the run failed")
        else:
            payload["reason"] = "cancelled"
    return payload


async def agno_follow(
    run_id: str, *, session_id: str, agent_id: str, agent_name: str
) -> AsyncIterator[bytes]:
    """The run's events so far, then live, each as Agno's SSE event; the run's ending last. The run
    does not depend on this stream: a client that goes away leaves it running to its end."""
    with metrics.streaming():
        async for batch in run_follow(run_id=run_id):
            for frame in batch:
                payload = agno_event(
                    frame.event, frame.data, session_id=session_id, agent_id=agent_id, agent_name=agent_name
                )
                if payload is not None:
                    yield json_frame(frame.event, payload)
