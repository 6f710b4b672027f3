"""The same workload on this app's Agent and on Agno 3.x, side by side, in one run.

    python bench/vs_agno.py             # the embedded server, in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/agentapp_bench2_ours python bench/vs_agno.py

Agno (3.1.10) is installed by this script into its own virtualenv (var/bench-agno-venv;
never a project dependency) and driven by bench/_agno_driver.py in a subprocess; ours is
driven the same way, by bench/_ours_driver.py in a subprocess of its own. Both use one
PostgreSQL server (ours: its "default" database; Agno: the same database name plus "_agno",
created when missing) and one loopback model: the tests' OpenAI-compatible fake, in this
process, Chat Completions, both through the official openai SDK.

(a) one session, --turns turns (300) with num_history_runs=5 and agentic memory, the
    model answering at once: median wall time of one `agent.run()` at turns 261-300.
(b) automatic memory (update_memory_on_run) and session summaries on, the model
    answering every request after 200 ms: median time until `agent.run()` returns the
    reply, over --reply-turns turns. Ours runs as the app does (AGENT_BACKGROUND_TASKS
    "celery": the memory and summary jobs are enqueued, on kombu's filesystem broker, and
    done by a worker after the reply); Agno does its memory update (in a thread, alongside
    the reply) and its summary before run() returns. (b') is ours with that work inline, as a
    script's Agent does it: the memory update's first request alongside the reply, the summary
    once the reply is stored, both done before run() returns.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")  # DEBUG stays off
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-bench-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from agentapp.agent.session.summaries import SUMMARY_INSTRUCTIONS  # noqa: E402
from agentapp.platform.database import server_description  # noqa: E402
from bench._agno_venv import AGNO_VERSION, agno_database, agno_python  # noqa: E402
from tests.fake_openai import FakeOpenAI, RecordedRequest, Reply  # noqa: E402

DRIVER = ROOT / "bench" / "_agno_driver.py"
OURS_DRIVER = ROOT / "bench" / "_ours_driver.py"
SHOWN = (261, 300)  # turns whose median (a) reports
MODEL_DELAY = 0.2  # (b): the model answers after this long


class Model:
    """The loopback model's script: a plain reply, and what each framework's summariser parses."""

    def __init__(self) -> None:
        self.delay = 0.0

    def __call__(self, request: RecordedRequest) -> Reply:
        body = request.body
        messages = body.get("messages") or [{}]
        if "response_format" in body:  # Agno's session summary (structured output)
            text = json.dumps({"summary": "The user is comparing three options.", "topics": ["options"]})
        elif str(messages[0].get("content") or "").startswith(SUMMARY_INSTRUCTIONS):
            text = "- The user is comparing three options.\nTopics: options"
        else:
            text = "Option one is cheaper; option two scales better."
        return Reply(text=text, delay=self.delay, usage=(200, 12))


def _driven(command: list[str], name: str) -> list[float]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, env={**os.environ})
    if done.returncode != 0:
        raise SystemExit(f"the {name} driver failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def _agno(python: Path, db_url: str, base_url: str, workload: str, turns: int) -> list[float]:
    command = [str(python), str(DRIVER), "--db-url", db_url, "--base-url", base_url]
    return _driven([*command, "--workload", workload, "--turns", str(turns)], "Agno")


def _ours(base_url: str, workload: str, turns: int) -> list[float]:
    command = [sys.executable, str(OURS_DRIVER), "--base-url", base_url, "--workload", workload]
    return _driven([*command, "--turns", str(turns)], "our")


def _settle() -> None:
    """Each side starts on a quiet server: the writes before it flushed (a fresh server's first
    checkpoint landed in whichever side ran first) and the tables' statistics current."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("ANALYZE")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--reply-turns", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    python = agno_python()
    agno_db = agno_database("_agno")
    first, last = SHOWN[0] - 1, min(SHOWN[1], args.turns)
    script = Model()
    with FakeOpenAI() as server:
        server.responder = script
        server.requests = _Discard()

        _settle()
        ours_a = _ours(server.base_url, "turns", args.turns)
        _settle()
        agno_a = _agno(python, agno_db, server.base_url, "turns", args.turns)
        _settle()

        script.delay = MODEL_DELAY
        ours_b = _ours(server.base_url, "reply", args.reply_turns)
        inline_b = _ours(server.base_url, "reply-inline", args.reply_turns)
        agno_b = _agno(python, agno_db, server.base_url, "reply", args.reply_turns)

    a_ours, a_agno = statistics.median(ours_a[first:last]), statistics.median(agno_a[first:last])
    b_ours, b_inline, b_agno = (statistics.median(v) * 1000 for v in (ours_b, inline_b, agno_b))
    print(
        f"{server_description()}: database {settings.DATABASES['default']['NAME']} (ours) and its "
        f"_agno twin (Agno {AGNO_VERSION}); "
        f"loopback model (Chat Completions); {os.cpu_count()} CPUs"
    )
    print()
    print(f"| {'workload':<62} | {'ours ms':>8} | {'Agno ms':>8} | {'ours/Agno':>9} |")
    print(f"|{'-' * 64}|{'-' * 9}:|{'-' * 9}:|{'-' * 10}:|")
    label_a = f"(a) turn time, turns {SHOWN[0]}-{last}, history 5, agentic memory"
    print(f"| {label_a:<62} | {a_ours * 1000:>8.1f} | {a_agno * 1000:>8.1f} | {a_ours / a_agno:>9.2f} |")
    label_b = f"(b) reply time, auto memory + summaries, model {MODEL_DELAY * 1000:.0f} ms"
    print(f"| {label_b:<62} | {b_ours:>8.1f} | {b_agno:>8.1f} | {b_ours / b_agno:>9.2f} |")
    label_i = "(b') the same, ours with that work done before run() returns"
    print(f"| {label_i:<62} | {b_inline:>8.1f} | {b_agno:>8.1f} | {b_inline / b_agno:>9.2f} |")
    print()
    print(
        f"turn 1 / turn {args.turns} (a): ours {ours_a[0] * 1000:.1f} / {ours_a[-1] * 1000:.1f} ms, "
        f"Agno {agno_a[0] * 1000:.1f} / {agno_a[-1] * 1000:.1f} ms"
    )
    for name, ratio in (("(a)", a_ours / a_agno), ("(b)", b_ours / b_agno)):
        print(
            f"target {name}: ours at most half of Agno's (ratio <= 0.50): "
            f"{'met' if ratio <= 0.5 else 'NOT met'}"
        )
    ratio = b_inline / b_agno
    print(f"target (b'): ours at most 0.9x Agno's (ratio <= 0.90): {'met' if ratio <= 0.9 else 'NOT met'}")


class _Discard(list):
    """The fake's request log, kept empty: hundreds of requests need no history here."""

    def append(self, item: object) -> None:
        pass


if __name__ == "__main__":
    main()
