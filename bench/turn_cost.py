"""Framework time per turn, deep into one thread and with many memories.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/agentapp_bench python bench/turn_cost.py

The model is the loopback OpenAI-compatible server from the tests, answering at
once; "framework" is the turn's wall time minus the model requests' own time
(as recorded in the run's events). Earlier turns are bulk-inserted so turn
10,000 is reached in seconds; each figure is the median of --samples turns.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")  # DEBUG stays off
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-bench-"))
os.environ["AGENT_BACKGROUND_TASKS"] = "inline"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from agentapp.agent import Agent  # noqa: E402
from agentapp.db import DjangoDb  # noqa: E402
from agentapp.llm import OpenAIChat  # noqa: E402
from agentapp.platform.database import server_description  # noqa: E402
from memory_app.models import Memory  # noqa: E402
from memory_app.services import normalize_text  # noqa: E402
from sessions_app.models import AgentSession, Message, Run, RunEvent  # noqa: E402
from tests.fake_openai import FakeOpenAI, Reply  # noqa: E402

User = get_user_model()


def _fill_thread(session: AgentSession, upto: int) -> None:
    """Bulk-insert completed runs so the session has `upto` turns behind it."""
    have = session.runs.count()
    batch = 2_000
    while have < upto:
        n = min(batch, upto - have)
        runs = Run.objects.bulk_create(
            Run(
                session=session,
                user_id=session.user_id,
                status="completed",
                input=f"question {have + i}",
                content=f"answer {have + i}",
                model_id="gpt-bench",
            )
            for i in range(n)
        )
        Message.objects.bulk_create(
            m
            for run in runs
            for m in (
                Message(run=run, session=session, role="user", content=run.input, position=0),
                Message(run=run, session=session, role="assistant", content=run.content, position=1),
            )
        )
        have += n
    # A thread without versions is a line: each run follows the one before it.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sessions_app_run AS r SET parent_id = p.previous FROM (SELECT id, "
            "LAG(id) OVER (ORDER BY id) AS previous FROM sessions_app_run WHERE session_id = %s) AS p "
            "WHERE p.id = r.id AND r.parent_id IS DISTINCT FROM p.previous",
            [session.pk],
        )


def _fill_memories(user, count: int) -> None:
    have = Memory.objects.filter(user=user).count()
    Memory.objects.bulk_create(
        Memory(
            user=user, text=f"User fact number {i}", normalized_text=normalize_text(f"User fact number {i}")
        )
        for i in range(have, count)
    )


def _analyze() -> None:
    """What autovacuum does to real tables after inserts: statistics for the planner, and the
    visibility map that makes the history read an index-only scan. Without the map the planner
    may walk the runs' primary key backwards through other sessions' newer runs instead."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _turns(agent: Agent, user_id: str, session_id: str, samples: int) -> tuple[list[float], list[float]]:
    """Wall time and framework time (wall minus the model requests) of each of `samples` turns, in ms."""
    totals, framework = [], []
    for i in range(samples):
        started = time.perf_counter()
        out = agent.run(f"bench message {i}", user_id=user_id, session_id=session_id)
        wall = time.perf_counter() - started
        assert out.status == "completed", out.error
        model_ms = sum(
            e.duration_ms or 0 for e in RunEvent.objects.filter(run__run_id=out.run_id, kind="model_request")
        )
        totals.append(wall * 1000)
        framework.append(wall * 1000 - model_ms)
    return totals, framework


def _measure(agent: Agent, user_id: str, session_id: str, samples: int) -> tuple[float, float]:
    totals, framework = _turns(agent, user_id, session_id, samples)
    return statistics.median(totals), statistics.median(framework)


def _agent(server: FakeOpenAI) -> Agent:
    model = OpenAIChat(id="gpt-bench", base_url=server.base_url, api_key="sk-bench", max_retries=0)
    return Agent(
        model=model,
        db=DjangoDb(),
        add_history_to_context=True,
        num_history_runs=5,
        enable_agentic_memory=True,
    )


def serve(depth: int) -> None:
    """For bench/db_servers.py: a thread `depth` turns deep, then each stdin line N runs N turns and
    prints their framework times as a JSON list."""
    call_command("migrate", verbosity=0)
    with FakeOpenAI() as server:
        server.responder = lambda request: Reply(text="ok", usage=(50, 1))
        agent = _agent(server)
        stamp = time.time_ns()
        user = User.objects.create(username=f"bench-serve-{stamp}")
        session = AgentSession.objects.create(session_id=f"bench-serve-{stamp}", user=user)
        _fill_thread(session, depth)
        _analyze()
        _turns(agent, user.username, session.session_id, 20)  # warm: imports, the pool, the plans
        print(json.dumps({"ready": server_description()}), flush=True)
        for line in sys.stdin:
            _, framework = _turns(agent, user.username, session.session_id, int(line))
            print(json.dumps(framework), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", default="10,100,1000,10000")
    parser.add_argument("--memories", default="0,100,5000")
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--serve", type=int, metavar="DEPTH", help="the driver mode bench/db_servers.py uses")
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    call_command("migrate", verbosity=0)

    with FakeOpenAI() as server:
        server.responder = lambda request: Reply(text="ok", usage=(50, 1))
        agent = _agent(server)
        print(
            f"database: {server_description()}; model: loopback, answering at once; "
            f"median of {args.samples} turns"
        )
        print()
        print(f"{'turn':>8} {'memories':>9} {'turn ms':>9} {'framework ms':>13}")
        rows = []
        stamp = int(time.time())
        for memories in [int(m) for m in args.memories.split(",")]:
            user = User.objects.create(username=f"bench-{stamp}-{memories}")
            _fill_memories(user, memories)
            _analyze()
            session = AgentSession.objects.create(session_id=f"bench-{stamp}-{memories}", user=user)
            turns = [int(t) for t in args.turns.split(",")] if memories == 0 else [10]
            for turn in turns:
                _fill_thread(session, turn - 1)
                _analyze()
                total, framework = _measure(agent, user.username, session.session_id, args.samples)
                rows.append((turn, memories, total, framework))
                print(f"{turn:>8} {memories:>9} {total:>9.2f} {framework:>13.2f}", flush=True)
                _fill_thread(session, turn - 1)  # the samples added turns; later rows start from their own n
        base = next(r for r in rows if r[0] == min(r[0] for r in rows) and r[1] == 0)
        deepest = max((r for r in rows if r[1] == 0), key=lambda r: r[0])
        ratio = deepest[3] / base[3]
        print()
        print(f"framework time at turn {deepest[0]} vs turn {base[0]}: {ratio:.2f}x (target: within 1.15x)")


if __name__ == "__main__":
    main()
