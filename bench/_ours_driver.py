"""Runs the vs_agno workloads on this app's Agent, in a process of its own as Agno's driver runs.

    DATABASE_URL=postgres://... python bench/_ours_driver.py --base-url http://127.0.0.1:PORT/v1 \
        --workload turns --turns 300

Started by bench/vs_agno.py; prints one JSON line: {"seconds": [per-turn wall time, ...]}.
Workloads: turns (history 5, agentic memory), reply (automatic memory and session summaries,
enqueued for a worker on kombu's filesystem broker, as the app runs) and reply-inline (the same
work done before run() returns).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")  # DEBUG stays off
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-bench-"))
os.environ["CELERY_BROKER_URL"] = "filesystem://"  # enqueued jobs land in the temporary folder

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from agentapp.agent import Agent  # noqa: E402
from agentapp.app_agent import CeleryFollowups  # noqa: E402
from agentapp.db import DjangoDb  # noqa: E402
from agentapp.llm import OpenAIChat  # noqa: E402


def _agent(workload: str, base_url: str) -> Agent:
    model = OpenAIChat("bench-model", base_url=base_url, api_key="sk-bench", max_retries=0)
    history = dict(add_history_to_context=True, num_history_runs=5)
    if workload == "turns":
        return Agent(model=model, db=DjangoDb(), enable_agentic_memory=True, **history)
    followups = dict(update_memory_on_run=True, enable_session_summaries=True, **history)
    background = {"followups": CeleryFollowups()} if workload == "reply" else {}
    return Agent(model=model, db=DjangoDb(), **followups, **background)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--workload", choices=["turns", "reply", "reply-inline"], required=True)
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    agent = _agent(args.workload, args.base_url)
    stamp = time.time_ns()
    user_id, session_id = f"bench-{stamp}", f"ses_bench_{stamp}"
    seconds = []
    for turn in range(1, args.turns + 1):
        started = time.perf_counter()
        output = agent.run(
            f"Turn {turn}: tell me one thing about option {turn % 3}.", user_id=user_id, session_id=session_id
        )
        seconds.append(time.perf_counter() - started)
        if output.status != "completed":
            raise SystemExit(f"our turn {turn} failed: {output.error}")
    get_user_model().objects.filter(username=user_id).delete()
    print(json.dumps({"seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
