"""Tools over what was said before, bound to one run's user: the session's own chat and tool calls
(Agno's `read_chat_history`, `read_tool_call_history`), and the same person's other sessions
(`search_past_sessions`), each bounded, never another person's."""

from __future__ import annotations

import json
import re

from agentapp.llm.types import ToolSpec

from ..records import RunHandle
from ..storage import AgentDb
from ..tools import Tool

MAX_RESULT_CHARS = 12_000
MAX_TURN_CHARS = 600


def cut(text: str, limit: int = MAX_TURN_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded(payload: object) -> str:
    text = json.dumps(payload, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_RESULT_CHARS else text[: MAX_RESULT_CHARS - 1] + "…"


def chat_history_tool(*, db: AgentDb, run: RunHandle) -> Tool:
    def get_chat_history(num_chats: int = 10) -> str:
        runs = [
            r
            for r in db.session_runs(session_id=run.session_id, user_id=run.user_id)
            if r.run_id != run.run_id
        ]
        turns = [{"user": cut(r.input), "assistant": cut(r.content)} for r in runs[-max(1, num_chats) :]]
        return bounded(turns)

    spec = ToolSpec(
        name="get_chat_history",
        description=(
            "The earlier turns of this conversation (what the user said, what you answered), oldest first."
        ),
        parameters={
            "type": "object",
            "properties": {"num_chats": {"type": "integer", "description": "How many of the last turns."}},
        },
    )
    return Tool(spec, get_chat_history)


def tool_call_history_tool(*, db: AgentDb, run: RunHandle) -> Tool:
    def get_tool_call_history(num_calls: int = 5) -> str:
        calls = []
        results: dict[str, str] = {}
        for stored in db.session_runs(session_id=run.session_id, user_id=run.user_id):
            for message in stored.messages:
                if message.role == "tool" and message.tool_call_id:
                    results[message.tool_call_id] = message.content
                for call in message.tool_calls:
                    calls.append(call)
        shown = [
            {"tool": c.name, "arguments": cut(c.arguments), "result": cut(results.get(c.id, ""))}
            for c in calls[-max(1, num_calls) :]
        ]
        return bounded(shown)

    spec = ToolSpec(
        name="get_tool_call_history",
        description="The last tool calls made in this conversation, with their arguments and results.",
        parameters={
            "type": "object",
            "properties": {"num_calls": {"type": "integer", "description": "How many of the last calls."}},
        },
    )
    return Tool(spec, get_tool_call_history)


def past_sessions_tool(*, db: AgentDb, run: RunHandle, sessions: int, runs_each: int) -> Tool:
    def search_past_sessions(query: str = "") -> str:
        words = {w for w in re.findall(r"[^\W_]+", query.lower()) if len(w) > 2}
        found = []
        for session in db.user_sessions(user_id=run.user_id, limit=sessions + 1):
            if session.session_id == run.session_id:
                continue
            turns = db.session_runs(session_id=session.session_id, user_id=run.user_id)[-runs_each:]
            shown = [{"user": cut(t.input), "assistant": cut(t.content)} for t in turns]
            if words and not any(w in json.dumps(shown).lower() for w in words):
                continue
            found.append({"session_id": session.session_id, "title": session.title, "turns": shown})
            if len(found) >= sessions:
                break
        return bounded(found) if found else "No earlier conversation matches."

    spec = ToolSpec(
        name="search_past_sessions",
        description=(
            "The user's other, earlier conversations (their last turns), newest first; with a query, "
            "only those that mention its words."
        ),
        parameters={"type": "object", "properties": {"query": {"type": "string"}}},
    )
    return Tool(spec, search_past_sessions)
