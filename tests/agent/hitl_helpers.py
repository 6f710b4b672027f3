"""What the human-in-the-loop tests read back: a run's stored status and the tool messages a request sent."""

from __future__ import annotations

from agentapp.agent import InMemoryDb


def run_status(db, run_id: str) -> str:
    if isinstance(db, InMemoryDb):
        return db.run_status(run_id=run_id)
    from sessions_app.models import Run

    return Run.objects.get(run_id=run_id).status


def tool_messages(request) -> list[str]:
    """What the model was told of each tool call in a request (chat completions' tool messages)."""
    return [m["content"] for m in request.body["messages"] if m["role"] == "tool"]
