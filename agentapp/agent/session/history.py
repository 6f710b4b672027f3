"""What a run replays of the thread's earlier runs, as Agno replays it: the turns with their tool
calls and results, the older tool calls pruned past `max_tool_calls_from_history`, every message
marked `from_history`; and what a run stores of its own (`store_tool_messages`,
`store_history_messages`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from agentapp.llm.types import Message


def replayed(history: Sequence[Message], *, max_tool_calls: int | None = None) -> list[Message]:
    """The history as the model gets it: the most recent `max_tool_calls` tool calls kept with
    their results (None: all), the rest dropped with the assistant turns that only made them, and
    no tool result without the call it answers (a message-count cut may leave one at the start)."""
    calls_made = {call.id for message in history for call in message.tool_calls}
    results = [m for m in history if m.role == "tool" and m.tool_call_id in calls_made]
    if max_tool_calls is not None:
        results = results[-max_tool_calls:] if max_tool_calls > 0 else []
    kept = {m.tool_call_id for m in results}
    out: list[Message] = []
    for message in history:
        if message.role == "tool":
            if message.tool_call_id not in kept:
                continue
        elif message.tool_calls:
            calls = tuple(call for call in message.tool_calls if call.id in kept)
            if not calls and not message.content:
                continue
            message = dataclasses.replace(message, tool_calls=calls)
        out.append(dataclasses.replace(message, from_history=True))
    return out


def without_tool_messages(messages: Sequence[Message]) -> list[Message]:
    """A run's messages less its tool calls and their results (Agno's store_tool_messages=False):
    the assistant turns that made calls go too, as in Agno."""
    return [m for m in messages if m.role != "tool" and not m.tool_calls]


def to_store(
    new_messages: Sequence[Message],
    history: Sequence[Message],
    *,
    store_tool_messages: bool,
    store_history_messages: bool,
) -> list[Message]:
    """What a run stores beside the user's message: its new messages and, when asked, copies of the
    history it was given (marked from_history, so no later run replays them twice)."""
    stored = list(new_messages) if store_tool_messages else without_tool_messages(new_messages)
    if store_history_messages:
        copies = history if store_tool_messages else without_tool_messages(history)
        stored.extend(copies)
    return stored
