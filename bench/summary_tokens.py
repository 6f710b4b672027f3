"""Prompt tokens per turn over a long thread, with session summaries off and on.

    python bench/summary_tokens.py                 # the embedded server, in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/agentapp_bench python bench/summary_tokens.py

Runs --turns turns of one session per configuration against the loopback
OpenAI-compatible server from the tests (in this process), with
num_history_runs=5 and the summary folded inline after each run. The token
counts are the server's (prompt JSON length / 4), the same for every
configuration. The summariser stand-in keeps the last few points it was given,
like a model told to stay under a word limit, so the summary plateaus.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")  # DEBUG stays off
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-bench-"))
os.environ["AGENT_BACKGROUND_TASKS"] = "inline"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from agentapp.agent import Agent  # noqa: E402
from agentapp.agent.session.summaries import SUMMARY_INSTRUCTIONS  # noqa: E402
from agentapp.db import DjangoDb  # noqa: E402
from agentapp.llm import OpenAIChat  # noqa: E402
from agentapp.platform.database import server_description  # noqa: E402
from sessions_app.models import AgentSession, Run, RunEvent  # noqa: E402
from tests.fake_openai import FakeOpenAI, RecordedRequest, Reply  # noqa: E402

SHOWN_TURNS = (1, 10, 50, 100, 150, 200)
SUMMARY_POINTS = 12  # sentences the stand-in summariser keeps


def _user_message(turn: int) -> str:
    return (
        f"Turn {turn}: I am comparing options for project {turn % 13}; "
        f"please note that I prefer option {turn % 3} and tell me the trade-offs briefly."
    )


def _summarise(request: RecordedRequest) -> Reply:
    """A bounded fold: the old summary's points plus one per new turn, keeping the last few."""
    body = "\n".join(m["content"] for m in request.body["messages"])
    current = re.search(r"<session_summary>\n(.*?)\nTopics:", body, re.DOTALL)
    points = [] if not current or current.group(1) == "(none yet)" else current.group(1).split("\n")
    points += [f"- {line[6:].split(';')[0]}." for line in re.findall(r"^user: .*$", body, re.M)]
    return Reply(text="\n".join(points[-SUMMARY_POINTS:]) + "\nTopics: projects, options")


def _respond(request: RecordedRequest) -> Reply:
    messages = request.body.get("messages") or []
    if messages and messages[0].get("content", "").startswith(SUMMARY_INSTRUCTIONS):
        return _summarise(request)
    return Reply(text="Option one is cheaper; option two scales better. Both are fine for now.")


def _run(server: FakeOpenAI, *, turns: int, summaries: bool, history: int | None) -> dict:
    agent = Agent(
        model=OpenAIChat("bench-model", base_url=server.base_url, api_key="sk-bench", max_retries=0),
        db=DjangoDb(),
        add_history_to_context=True,
        num_history_runs=history,
        enable_session_summaries=summaries,
    )
    user_id, session_id = f"bench-{uuid.uuid4().hex[:8]}", f"ses_bench_{uuid.uuid4().hex}"
    started = time.perf_counter()
    for turn in range(1, turns + 1):
        output = agent.run(_user_message(turn), user_id=user_id, session_id=session_id)
        if output.status != "completed":
            raise SystemExit(f"turn {turn} failed: {output.error}")
    elapsed = time.perf_counter() - started
    session = AgentSession.objects.get(session_id=session_id)
    prompt = list(Run.objects.filter(session=session).order_by("id").values_list("input_tokens", flat=True))
    events = RunEvent.objects.filter(run__session=session, kind="summary").order_by("run_id")
    summary = dict(events.values_list("run_id", "input_tokens"))
    run_pks = list(Run.objects.filter(session=session).order_by("id").values_list("pk", flat=True))
    session.user.delete()  # leave an existing database as it was
    return {"prompt": prompt, "summary": [summary.get(pk, 0) for pk in run_pks], "seconds": elapsed}


def _row(label: str, values: list[int], turns: int) -> str:
    shown = [f"{values[t - 1]:>6}" if t <= turns else f"{'-':>6}" for t in SHOWN_TURNS]
    return (
        f"| {label:<38} | " + " | ".join(shown) + f" | {statistics.mean(values):>6.0f} | {max(values):>6} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    configs = [
        ("summaries off, last 5 runs", False, 5),
        ("summaries on, last 5 runs", True, 5),
        ("no summary, whole history (reference)", False, None),
    ]
    with FakeOpenAI() as server:
        server.responder = _respond
        results = {label: _run(server, turns=args.turns, summaries=on, history=h) for label, on, h in configs}
    print(f"{args.turns} turns per configuration, num_history_runs=5, loopback model, {server_description()}")
    print("Prompt (input) tokens of the main model request, by turn:\n")
    header = " | ".join(f"{'t' + str(t):>6}" for t in SHOWN_TURNS)
    print(f"| {'configuration':<38} | {header} | {'mean':>6} | {'max':>6} |")
    print(f"|{'-' * 40}|" + "|".join("-" * 8 for _ in SHOWN_TURNS) + f"|{'-' * 8}|{'-' * 8}|")
    for label, *_ in configs:
        print(_row(label, results[label]["prompt"], args.turns))
    on = results["summaries on, last 5 runs"]
    print(_row("summary request (summaries on)", on["summary"], args.turns))
    print()
    for label, *_ in configs:
        print(f"{label}: {results[label]['seconds']:.1f} s")


if __name__ == "__main__":
    main()
