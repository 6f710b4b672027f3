"""Agno's AgentOS serving one agent, for bench/vs_agentos.py; run by var/bench-agno-venv's python:

    AGENTOS_BENCH_DB_URL=postgresql+psycopg://... AGENTOS_BENCH_MODEL_URL=http://127.0.0.1:PORT/v1 \
        python -m uvicorn _agentos_server:app --app-dir bench --loop uvloop --http httptools

The agent is configured as ours is by default: the last 5 runs in context and agentic memory; no
session summary (ours enqueues it for a worker, Agno would make it before the stream ends), no
telemetry. Its model is the benchmark's loopback model, through the openai SDK (Chat Completions).
"""

from __future__ import annotations

import os

from agno.agent import Agent
from agno.db.postgres import PostgresDb
from agno.models.openai import OpenAIChat
from agno.os import AgentOS

AGENT_ID = "bench-agent"

agent = Agent(
    id=AGENT_ID,
    name="agent",
    model=OpenAIChat(id="bench-model", base_url=os.environ["AGENTOS_BENCH_MODEL_URL"], api_key="x"),
    db=PostgresDb(db_url=os.environ["AGENTOS_BENCH_DB_URL"]),
    add_history_to_context=True,
    num_history_runs=5,
    enable_agentic_memory=True,
    telemetry=False,
)
app = AgentOS(agents=[agent], telemetry=False).get_app()
