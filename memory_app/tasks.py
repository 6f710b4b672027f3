"""Background memory work. Tasks take ids, rebuild the app's agent and call one method."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="memory.update_for_run", acks_late=True, soft_time_limit=120, time_limit=180)
def memory_update_for_run(run_id: str) -> None:
    from agentapp.agents import app_agent

    app_agent().update_memory_for_run(run_id)
