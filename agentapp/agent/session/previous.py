"""Agno 2's `search_session_history`: a tool over the messages of the person's previous sessions
(`num_history_sessions` of them), bounded, never another person's."""

from __future__ import annotations

from agentapp.llm.types import ToolSpec

from ..records import RunHandle
from ..storage import AgentDb
from ..tools import Tool
from .tools import bounded, cut

DEFAULT_HISTORY_SESSIONS = 2  # Agno's, when `num_history_sessions` is not given


def previous_sessions_tool(*, db: AgentDb, run: RunHandle, sessions: int | None) -> Tool:
    """Agno's `search_session_history`: the person's last `sessions` other sessions, their turns as
    user and assistant messages, newest session first (each pair once)."""
    limit = DEFAULT_HISTORY_SESSIONS if sessions is None else sessions

    def get_previous_session_messages() -> str:
        messages: list[dict[str, str]] = []
        seen: set[tuple[str, str]] = set()
        others = [
            s
            for s in db.user_sessions(user_id=run.user_id, limit=limit + 1)
            if s.session_id != run.session_id
        ]
        for session in others[:limit]:
            for turn in db.session_runs(session_id=session.session_id, user_id=run.user_id):
                pair = (cut(turn.input), cut(turn.content))
                if not all(pair) or pair in seen:
                    continue
                seen.add(pair)
                messages += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
        return bounded(messages) if messages else "No history found"

    spec = ToolSpec(
        name="get_previous_session_messages",
        description=(
            "Messages of the user's previous conversations. Use it only when asked about an earlier "
            'conversation, such as "What was my last conversation?" or "What was my last question?".'
        ),
        parameters={"type": "object", "properties": {}},
    )
    return Tool(spec, get_previous_session_messages)
