"""Our rows in AgentOS 3.1's response shapes: sessions, runs, memories, the agent and the config.

Times are ISO 8601, as AgentOS sends them, but a run's `created_at`, which agent-ui reads as epoch
seconds (AgentOS's runs carry it so in their events too).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from memory_app.models import Memory
from sessions_app import selectors as session_selectors
from sessions_app.models import AgentSession, Run

from . import selectors

DB_ID = "django"  # the one database every agent here uses, as AgentOS names its databases


def agent_summary(*, agent_id: str, name: str, model_id: str, provider: str) -> dict[str, Any]:
    return {
        "id": agent_id,
        "name": name,
        "description": "The app's agent: persistent chat sessions and per-person memory.",
        "db_id": DB_ID,
        "model": {"id": model_id, "provider": provider, "name": model_id, "model": model_id},
    }


def agent_detail(*, agent_id: str, name: str, model_id: str, provider: str) -> dict[str, Any]:
    summary = agent_summary(agent_id=agent_id, name=name, model_id=model_id, provider=provider)
    return {
        **summary,
        "model": {"name": model_id, "model": model_id, "provider": provider},
        "sessions": {"session_table": "agent_sessions", "add_history_to_context": True},
        "memory": {"enable_user_memories": bool(settings.AGENT_UPDATE_MEMORY_ON_RUN)},
        "streaming": {"stream": True, "stream_events": True},
    }


def config(*, agent: dict[str, Any]) -> dict[str, Any]:
    return {
        "os_id": "agentapp",
        "name": "Agent sessions & memory",
        "description": "AgentOS-compatible routes of this app: agents, sessions, runs and memories.",
        "os_database": DB_ID,
        "databases": [DB_ID],
        "available_models": [agent["model"]],
        "agents": [agent],
        "teams": [],
        "workflows": [],
        "interfaces": [],
    }


def _summary(session: AgentSession) -> dict[str, Any] | None:
    summary = session_selectors.session_summary_get(session_pk=session.pk)
    if summary is None or not summary.text:
        return None
    return {"summary": summary.text, "topics": list(summary.topics), "updated_at": summary.updated_at}


def session_row(session: AgentSession, *, agent_id: str) -> dict[str, Any]:
    """A session as AgentOS lists it (`SessionSchema`)."""
    return {
        "session_id": session.session_id,
        "session_name": session.title or session.session_id,
        "session_state": session.session_state or None,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "session_type": "agent",
        "user_id": session.user.get_username(),
        "agent_id": agent_id,
    }


def session_detail(session: AgentSession, *, agent_id: str) -> dict[str, Any]:
    """One session as AgentOS gives it (`AgentSessionDetailSchema`), with its chat history."""
    tokens = selectors.session_tokens(session=session)
    history = [
        {"role": row["role"], "content": row["content"], "tool_calls": row["tool_calls"] or None}
        for row in session_selectors.session_message_rows(session=session)
    ]
    return {
        "user_id": session.user.get_username(),
        "agent_session_id": session.session_id,
        "session_id": session.session_id,
        "session_name": session.title or session.session_id,
        "session_summary": _summary(session),
        "session_state": session.session_state or None,
        "agent_id": agent_id,
        "total_tokens": tokens,
        "metrics": {"total_tokens": tokens},
        "chat_history": history,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def _metrics(run: Run) -> dict[str, int]:
    return {
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "total_tokens": run.total_tokens,
    }


def run_row(run: Run, *, agent_id: str) -> dict[str, Any]:
    """A stored run as AgentOS lists a session's runs (`RunSchema`)."""
    return {
        "run_id": run.run_id,
        "parent_run_id": run.parent.run_id if run.parent_id and run.parent else None,
        "agent_id": agent_id,
        "user_id": run.user.get_username(),
        "session_id": run.session.session_id,
        "status": run.status.upper(),
        "run_input": run.input,
        "content": run.content if run.status != Run.Status.ERROR else (run.content or run.error),
        "run_response_format": "text",
        "metrics": _metrics(run),
        "created_at": int(run.created_at.timestamp()),
    }


PREVIEW_CHARS = 280  # as AgentOS truncates its previews


def run_preview(run: Run, *, agent_id: str) -> dict[str, Any]:
    """A run as AgentOS previews a session's runs: ids, status, time, the texts' first characters."""
    row = run_row(run, agent_id=agent_id)
    keep = ("run_id", "parent_run_id", "agent_id", "user_id", "status", "created_at")
    return {
        **{name: row[name] for name in keep},
        "run_input": row["run_input"][:PREVIEW_CHARS],
        "content_preview": row["content"][:PREVIEW_CHARS],
    }


def run_output(run: Run, *, agent_id: str, agent_name: str) -> dict[str, Any]:
    """A run as AgentOS answers a run that was not streamed (`RunOutput.to_dict`)."""
    return {
        "run_id": run.run_id,
        "agent_id": agent_id,
        "agent_name": agent_name,
        "session_id": run.session.session_id,
        "user_id": run.user.get_username(),
        "content": run.content,
        "content_type": "str",
        "model": run.model_id,
        "model_provider": run.model_provider,
        "status": run.status.upper(),
        "metrics": _metrics(run),
        "input": {"input_content": run.input},
        "created_at": int(run.created_at.timestamp()),
    }


def memory_row(memory: Memory) -> dict[str, Any]:
    """A memory as AgentOS gives it (`UserMemorySchema`): its text is `memory`."""
    return {
        "memory_id": memory.memory_id,
        "memory": memory.text,
        "topics": list(memory.topics),
        "agent_id": None,
        "team_id": None,
        "user_id": memory.user.get_username(),
        "updated_at": memory.updated_at,
    }


def page_meta(*, page: int, limit: int, total: int) -> dict[str, int]:
    return {"page": page, "limit": limit, "total_pages": (total + limit - 1) // limit, "total_count": total}
