"""What the recall tests share: filler memories, an Agent that recalls, a run's recorded context."""

from __future__ import annotations

from agentapp import app_agent
from sessions_app.models import RunEvent


def distractors(n: int, start: int = 0) -> list[str]:
    return [f"Alice enjoys hobby number {i} on weekends" for i in range(start, start + n)]


def agent_with(make_agent, **kwargs):
    kwargs.setdefault("add_memories_to_context", True)
    kwargs.setdefault("embedder", app_agent.recall_embedder())
    return make_agent("chat", **kwargs)


def context_event(run_id: str) -> dict:
    return RunEvent.objects.get(run__run_id=run_id, kind="context").payload
