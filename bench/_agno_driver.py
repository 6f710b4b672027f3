"""Runs the vs_agno workloads on Agno, inside the benchmark's own Agno virtualenv.

    var/bench-agno-venv/bin/python bench/_agno_driver.py --db-url postgresql+psycopg://... \
        --base-url http://127.0.0.1:PORT/v1 --workload turns --turns 300

Started by bench/vs_agno.py; prints one JSON line: {"seconds": [per-turn wall time, ...]}.
Imports only Agno and the standard library (this file is not part of the app).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid

os.environ.setdefault("AGNO_TELEMETRY", "false")

from agno.agent import Agent
from agno.db.postgres import PostgresDb
from agno.models.openai import OpenAIChat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--workload", choices=["turns", "reply"], required=True)
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    model = OpenAIChat(id="bench-model", base_url=args.base_url, api_key="sk-bench", max_retries=0)
    db = PostgresDb(db_url=args.db_url)
    if args.workload == "turns":
        agent = Agent(
            model=model,
            db=db,
            add_history_to_context=True,
            num_history_runs=5,
            enable_agentic_memory=True,
            telemetry=False,
        )
    else:
        agent = Agent(
            model=model,
            db=db,
            add_history_to_context=True,
            num_history_runs=5,
            update_memory_on_run=True,
            enable_session_summaries=True,
            telemetry=False,
        )
    user_id, session_id = f"bench-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex}"
    seconds = []
    for turn in range(1, args.turns + 1):
        started = time.perf_counter()
        output = agent.run(
            f"Turn {turn}: tell me one thing about option {turn % 3}.", user_id=user_id, session_id=session_id
        )
        seconds.append(time.perf_counter() - started)
        status = str(getattr(output, "status", ""))
        if "error" in status.lower():
            raise SystemExit(f"agno turn {turn} failed: {output.content}")
    print(json.dumps({"seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
