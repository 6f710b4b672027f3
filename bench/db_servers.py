"""A turn on the embedded server (Unix socket) against one on an external server (TCP), interleaved.

    .venv/bin/python bench/db_servers.py --external postgres://postgres@127.0.0.1:5432/agentapp_bench

Starts `bench/turn_cost.py --serve` twice, in processes of their own: one on the embedded server
(a temporary data directory, the settings `make run` uses: fsync on), one on the server the URL
names. Each fills a thread --depth turns deep, analyzes, and warms up. Then, for --rounds rounds,
each runs --batch turns in turn (the order alternating every round), so that whatever else the
machine does falls on both alike. Prints the median framework time per turn (wall time minus the
model requests') of each, and the median of the per-round ratios embedded/external.
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
DRIVER = ROOT / "bench" / "turn_cost.py"


def _start(env: dict[str, str], depth: int) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, str(DRIVER), "--serve", str(depth)],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = json.loads(process.stdout.readline())
    return process, ready["ready"]


def _batch(process: subprocess.Popen, turns: int) -> list[float]:
    process.stdin.write(f"{turns}\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--external", default="postgres://postgres@127.0.0.1:5432/agentapp_bench")
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    base["AGENT_BACKGROUND_TASKS"] = "inline"
    embedded_env = {**base, "AGENTAPP_VAR_DIR": tempfile.mkdtemp(prefix="agentapp-bench-")}
    external_env = {**base, "DATABASE_URL": args.external, "AGENTAPP_VAR_DIR": tempfile.mkdtemp()}
    servers = dict(
        [("embedded", _start(embedded_env, args.depth)), ("external", _start(external_env, args.depth))]
    )
    samples: dict[str, list[float]] = {name: [] for name in servers}
    ratios = []
    try:
        for round_ in range(args.rounds):
            order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
            medians = {}
            for name in order:
                got = _batch(servers[name][0], args.batch)
                samples[name].extend(got)
                medians[name] = statistics.median(got)
            ratios.append(medians["embedded"] / medians["external"])
    finally:
        for process, _ in servers.values():
            process.stdin.close()
            process.wait(timeout=60)
    print(f"{args.rounds} rounds of {args.batch} turns each, a thread {args.depth} turns deep, interleaved\n")
    print("| server | turns | framework ms p25 / p50 / p75 |")
    print("|---|---:|---:|")
    for name, (_, description) in servers.items():
        q1, q2, q3 = statistics.quantiles(samples[name], n=4)
        print(f"| {name}: {description} | {len(samples[name])} | {q1:.2f} / {q2:.2f} / {q3:.2f} |")
    q1, q2, q3 = statistics.quantiles(ratios, n=4)
    print(f"\nembedded / external, median of the per-round ratios: {q2:.3f} (p25 {q1:.3f}, p75 {q3:.3f})")


if __name__ == "__main__":
    main()
