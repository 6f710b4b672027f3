"""A streamed run through our server and through Agno 3.1.10's AgentOS over HTTP, side by side, in one run.

    python bench/vs_agentos.py                      # the embedded server, in a temporary folder
    python bench/vs_agentos.py --workers 1 --bursts 30 --no-os-route

Starts, as subprocesses on 127.0.0.1 only: the loopback model (bench/_loopback_model.py: 21 words
over 1 s, first word at once); our server as bench/load.py does (`uvicorn agentapp.asgi:application`,
DEBUG=0, the PostgreSQL pool); and AgentOS (bench/_agentos_server.py, by the python of
var/bench-agno-venv, which bench/_agno_venv.py fills: FastAPI under the same uvicorn with uvloop and
httptools), with the same worker count. Both on one PostgreSQL server (AgentOS: our database's name
plus "_agentos") and one model. Requests:

- ours: `POST /api/runs` with `stream: true` and a service key, naming the person (JSON);
- ours /os/ (unless --no-os-route): our AgentOS-compatible `POST /os/agents/{id}/runs`, the very
  form AgentOS takes, with the service key;
- AgentOS: `POST /agents/{id}/runs` as form data (message, stream=true, session_id, user_id).

Scenarios, for each worker count, the servers taking turns (the order rotating every scenario):
sequential (one session, --sequential runs one after another), chats (--chats sessions at once,
--turns messages each, a think time between), and bursts (--bursts: that many runs released at the
same instant, each a new session). Per scenario and server: CPU of the server's processes and of
the PostgreSQL processes serving it (its database's backends, plus the backends that exited
meanwhile, from the postmaster's reaped-children time), per run; first token (the first RunContent)
and total (RunCompleted) p50/p95; errors; threads in each worker after the scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")  # DEBUG stays off
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-bench-"))

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apikeys.services import apikey_create  # noqa: E402
from bench._agno_venv import AGNO_VERSION, agno_database, agno_python  # noqa: E402
from bench._streamed_runs import (  # noqa: E402
    Result,
    _Client,
    _cpu_seconds,
    _free_port,
    _gather,
    _is_child,
    _one,
    _pct,
    _pids,
    _start_model,
    _start_server,
    _wait_ready,
)
from sessions_app.services import user_get_or_create  # noqa: E402

AGENTOS_APP = "_agentos_server:app"
AGENTOS_AGENT_ID = "bench-agent"
MESSAGE = "Tell me something in twenty words."
ENDS_AT = "RunCompleted"  # every route sends it; /api/runs then sends `done`
TARGETS = {"server CPU": 0.5, "PostgreSQL CPU": 1.0, "first token p95 (bursts)": 0.7}


class _FormClient:
    """AgentOS's run route, as its clients call it: a form, one connection per run."""

    def __init__(self, base: str, path: str, key: str | None) -> None:
        address = base.removeprefix("http://")
        self.host, _, port = address.partition(":")
        self.port = int(port)
        auth = f"Authorization: Bearer {key}\r\n" if key else ""
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: {address}\r\n{auth}"
            "Content-Type: application/x-www-form-urlencoded\r\nAccept: text/event-stream\r\n"
            "Connection: close\r\n"
        )

    def request(self, body: dict) -> bytes:
        form = {"message": body["message"], "stream": "true", "user_id": body["user_id"]}
        if body.get("session_id"):
            form["session_id"] = body["session_id"]
        payload = urlencode(form).encode()
        return f"{self.head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    client: _Client | _FormClient
    database: str  # whose PostgreSQL backends are this server's

    def pids(self) -> list[int]:
        return [self.process.pid, *(pid for pid in _pids("") if _is_child(pid, self.process.pid))]

    def workers(self) -> list[int]:
        children = [pid for pid in _pids("spawn_main") if _is_child(pid, self.process.pid)]
        return children or [self.process.pid]  # one worker: uvicorn serves in its own process


@dataclass
class Measured:
    scenario: str
    server: str
    workers: int
    results: list[Result]
    server_cpu: float
    pg_cpu: float
    threads: list[int] = field(default_factory=list)

    def ok(self) -> list[Result]:
        return [r for r in self.results if r.error is None]

    def errors(self) -> int:
        return len(self.results) - len(self.ok())

    def per_run_ms(self, seconds: float) -> float:
        return seconds * 1000 / max(1, len(self.results))

    def ttft(self, q: float) -> float:
        return _pct([r.ttft * 1000 for r in self.ok() if r.ttft is not None], q)

    def total(self, q: float) -> float:
        return _pct([r.total * 1000 for r in self.ok() if r.total is not None], q)


# --- PostgreSQL's processes ---------------------------------------------------------------------
def _postmaster() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    connection.close()
    return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _reaped_seconds(pid: int) -> float:
    """CPU of a process's exited, reaped children (the postmaster's: backends that closed)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _backends(postmaster: int, database: str) -> dict[int, float]:
    """The postmaster's children serving `database` (their title: `postgres: USER DB ...`)."""
    found = {}
    for pid in _pids(f" {database} "):
        if _is_child(pid, postmaster):
            found[pid] = _cpu_seconds(pid)
    return found


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def _measure(server: Server, postmaster: int, scenario: str, workers: int, work: Callable) -> Measured:
    pids = server.pids()
    cpu_before = {pid: _cpu_seconds(pid) for pid in pids}
    pg_before, reaped_before = _backends(postmaster, server.database), _reaped_seconds(postmaster)
    results = asyncio.run(work(server.client))
    cpu = sum(_cpu_seconds(pid) - cpu_before[pid] for pid in pids)
    pg_after = _backends(postmaster, server.database)
    # Backends opened meanwhile count from zero; those that closed meanwhile are in the reaped time.
    pg = sum(s - pg_before.get(pid, 0.0) for pid, s in pg_after.items()) + sum(
        0.0 - s for pid, s in pg_before.items() if pid not in pg_after
    )
    pg += _reaped_seconds(postmaster) - reaped_before
    threads = [_threads(pid) for pid in server.workers()]
    return Measured(scenario, server.name, workers, results, cpu, pg, threads)


# --- scenarios -----------------------------------------------------------------------------------
def _body(user_id: str, session_id: str | None = None) -> dict:
    body = {"message": MESSAGE, "user_id": user_id, "stream": True}
    return {**body, "session_id": session_id} if session_id else body


def _sequential(runs: int, user: str, session_id: str, deadline: float):
    async def work(client) -> list[Result]:
        async def one_after_another() -> list[Result]:
            return [await _one(client, _body(user, session_id), ends_at=ENDS_AT) for _ in range(runs)]

        return await _gather([asyncio.create_task(one_after_another())], deadline, per_task=runs)

    return work


def _chats(users: list[str], tag: str, turns: int, think: tuple[float, float], deadline: float, seed: int):
    async def work(client) -> list[Result]:
        rng = random.Random(seed)

        async def chat(user: str, pauses: list[float]) -> list[Result]:
            results = []
            for pause in pauses:
                await asyncio.sleep(pause)
                results.append(await _one(client, _body(user, f"ses_{tag}_{user}"), ends_at=ENDS_AT))
            return results

        tasks = [asyncio.create_task(chat(u, [rng.uniform(*think) for _ in range(turns)])) for u in users]
        return await _gather(tasks, deadline, per_task=turns)

    return work


def _burst(users: list[str], deadline: float):
    async def work(client) -> list[Result]:
        start = asyncio.Event()

        async def one(user: str) -> Result:
            await start.wait()
            return await _one(client, _body(user), ends_at=ENDS_AT)

        tasks = [asyncio.create_task(one(user)) for user in users]
        await asyncio.sleep(0.2)  # every task is waiting on the start line
        start.set()
        return await _gather(tasks, deadline, per_task=1)

    return work


# --- servers -------------------------------------------------------------------------------------
def _start_agentos(python: Path, port: int, model_url: str, db_url: str, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "AGENTOS_BENCH_MODEL_URL": model_url,
        "AGENTOS_BENCH_DB_URL": db_url,
        "AGNO_TELEMETRY": "false",
    }
    command = [str(python), "-m", "uvicorn", AGENTOS_APP, "--app-dir", str(ROOT / "bench")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def _service_key(stamp: int):
    staff = user_get_or_create(username=f"bench-vs-agentos-service-{stamp}")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    # A service key: its account may act for the people it names (ownership.acts_for_others).
    staff.user_permissions.add(Permission.objects.get(codename="act_for_others"))
    _, key = apikey_create(user=staff, name="vs AgentOS benchmark")
    return staff, key


def _servers(args, workers: int, key: str, model_url: str, python: Path, agno_db: str) -> list[Server]:
    ours_port, agentos_port = _free_port(), _free_port()
    ours = _start_server(ours_port, model_url, workers, args.pool_max)
    agentos = _start_agentos(python, agentos_port, model_url, agno_db, workers)
    ours_base, agentos_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{agentos_port}"
    ours_db = settings.DATABASES["default"]["NAME"]
    servers = [Server("ours", ours, _Client(ours_base, key), ours_db)]
    try:
        _wait_ready(f"{ours_base}/api/openapi.json", time.monotonic() + 90)
        _wait_ready(f"{agentos_base}/health", time.monotonic() + 90)
        if args.os_route:
            headers = {"Authorization": f"Bearer {key}"}
            agent_id = httpx.get(f"{ours_base}/os/agents", headers=headers, timeout=10).json()[0]["id"]
            client = _FormClient(ours_base, f"/os/agents/{agent_id}/runs", key)
            servers.append(Server("ours /os/", ours, client, ours_db))
        client = _FormClient(agentos_base, f"/agents/{AGENTOS_AGENT_ID}/runs", None)
        servers.append(Server("AgentOS", agentos, client, agno_db.split("?")[0].rsplit("/", 1)[1]))
    except BaseException:
        _stop([ours, agentos])
        raise
    return servers


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


# --- the report ----------------------------------------------------------------------------------
def _ratio(ours: float, theirs: float) -> float:
    return ours / theirs if theirs else float("nan")


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


def _report(measured: list[Measured], args) -> None:
    print(
        f"streamed runs, {STREAM_WORDS_NOTE}; ours (uvicorn agentapp.asgi, DEBUG=0, DB_POOL_MAX="
        f"{args.pool_max}) and Agno {AGNO_VERSION}'s AgentOS (uvicorn, uvloop, httptools); one PostgreSQL; "
        f"{os.cpu_count()} CPUs, shared with other work"
    )
    print()
    print(
        "| workers | scenario | server | runs | errors | server CPU ms/run | PG CPU ms/run | "
        "first token p50 / p95 ms | total p50 / p95 ms | threads per worker after |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---|")
    for m in measured:
        print(
            f"| {m.workers} | {m.scenario} | {m.server} | {len(m.results)} | {m.errors()} | "
            f"{m.per_run_ms(m.server_cpu):.1f} | {m.per_run_ms(m.pg_cpu):.1f} | "
            f"{m.ttft(0.5):.0f} / {m.ttft(0.95):.0f} | {m.total(0.5):.0f} / {m.total(0.95):.0f} | "
            f"{', '.join(map(str, m.threads))} |"
        )
    print()
    for m in measured:
        kinds = [r.error for r in m.results if r.error is not None]
        for kind in sorted(set(kinds)):
            print(f"errors, {m.workers} worker(s), {m.scenario}, {m.server}: {kinds.count(kind)} x {kind}")
            print()
    print(
        "| workers | scenario | route | server CPU ours/AgentOS (<= 0.5) | PG CPU (<= 1.0) | "
        "first token p95 (bursts: <= 0.7) | errors ours / AgentOS (0) |"
    )
    print("|---:|---|---|---:|---:|---:|---:|")
    worst: dict[str, list[float]] = {name: [] for name in TARGETS}
    by_key = {(m.workers, m.scenario, m.server): m for m in measured}
    for m in measured:
        theirs = by_key.get((m.workers, m.scenario, "AgentOS"))
        if m.server == "AgentOS" or theirs is None:
            continue
        cpu = _ratio(m.per_run_ms(m.server_cpu), theirs.per_run_ms(theirs.server_cpu))
        pg = _ratio(m.per_run_ms(m.pg_cpu), theirs.per_run_ms(theirs.pg_cpu))
        ttft = _ratio(m.ttft(0.95), theirs.ttft(0.95))
        burst = m.scenario.startswith("burst")
        if m.server == "ours":
            worst["server CPU"].append(cpu)
            worst["PostgreSQL CPU"].append(pg)
            if burst:
                worst["first token p95 (bursts)"].append(ttft)
        ttft_cell = f"{ttft:.2f} ({_verdict(ttft, 0.7)})" if burst else f"{ttft:.2f}"
        print(
            f"| {m.workers} | {m.scenario} | {m.server} | {cpu:.2f} ({_verdict(cpu, 0.5)}) | "
            f"{pg:.2f} ({_verdict(pg, 1.0)}) | {ttft_cell} | {m.errors()} / {theirs.errors()} |"
        )
    print()
    for name, target in TARGETS.items():
        values = worst[name]
        if values:
            print(
                f"target: {name} <= {target}x AgentOS's in every scenario (POST /api/runs): "
                f"{_verdict(max(values), target)} (worst {max(values):.2f}, best {min(values):.2f})"
            )
    errors = sum(m.errors() for m in measured)
    print(f"target: zero errors (every route and scenario): {'met' if errors == 0 else 'NOT met'} ({errors})")


STREAM_WORDS_NOTE = "loopback model: 21 words over 1 s, first at once"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to run")
    parser.add_argument("--sequential", type=int, default=20, help="runs in one session (0: skip)")
    parser.add_argument("--chats", type=int, default=10, help="sessions chatting at once (0: skip)")
    parser.add_argument("--turns", type=int, default=3, help="messages in each chat")
    parser.add_argument(
        "--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"), help="seconds between"
    )
    parser.add_argument("--bursts", type=int, nargs="*", default=[30, 100], help="runs released at once")
    parser.add_argument("--no-os-route", dest="os_route", action="store_false", help="skip ours via /os/")
    parser.add_argument("--pool-max", type=int, default=40, help="our DB_POOL_MAX per worker")
    parser.add_argument(
        "--warmup", type=int, default=20, help="runs at once on each server first, not counted"
    )
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds for each scenario")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    python = agno_python()
    agno_db = agno_database("_agentos")
    postmaster = _postmaster()
    stamp = int(time.time())
    staff, key = _service_key(stamp)
    people = max([args.chats, args.warmup, 1, *args.bursts])
    users = [user_get_or_create(username=f"bench-vs-{stamp}-{i}").get_username() for i in range(people)]
    model, model_url = _start_model(1.0 / 20, 0.0)
    measured: list[Measured] = []
    scenarios = _scenarios(args, users)
    turn = 0
    try:
        for workers in args.workers:
            servers = _servers(args, workers, key, model_url, python, agno_db)
            try:
                for server in servers:
                    asyncio.run(_burst(users[: args.warmup], 60)(server.client))
                for name, make in scenarios:
                    turn += 1
                    order = servers[turn % len(servers) :] + servers[: turn % len(servers)]
                    for server in order:
                        tag = f"{stamp}_{workers}_{turn}_{server.name.replace(' ', '').replace('/', '')}"
                        found = _measure(server, postmaster, name, workers, make(tag))
                        measured.append(found)
                        cpu = found.per_run_ms(found.server_cpu)
                        done = f"{len(found.ok())}/{len(found.results)} ok, server {cpu:.1f} ms/run"
                        print(f"  {workers} worker(s), {name}, {server.name}: {done}", file=sys.stderr)
                        time.sleep(1.0)  # the last run's follow-ups settle before the other server starts
            finally:
                _stop(list({id(s.process): s.process for s in servers}.values()))
    finally:
        model.stdin.close()
        model.wait(timeout=30)
        staff.delete()
        for username in users:
            user_get_or_create(username=username).delete()
    names = ["ours", "ours /os/", "AgentOS"]
    measured.sort(key=lambda m: (m.workers, _scenario_rank(m.scenario), names.index(m.server)))
    _report(measured, args)


def _scenarios(args, users: list[str]) -> list[tuple[str, Callable[[str], Callable]]]:
    """(name, work for a session tag) for each scenario asked for."""
    found: list[tuple[str, Callable[[str], Callable]]] = []
    runs, think, deadline = args.sequential, tuple(args.think), args.deadline
    if runs:
        name = f"sequential, {runs} runs in one session"
        found.append((name, lambda tag: _sequential(runs, users[0], f"ses_seq_{tag}", deadline)))
    if args.chats:
        name = f"chats, {args.chats} sessions x {args.turns}, think {think[0]:g}-{think[1]:g} s"
        chatters, turns, seed = users[: args.chats], args.turns, args.seed
        found.append((name, lambda tag: _chats(chatters, tag, turns, think, deadline, seed)))
    for size in args.bursts:
        found.append((f"burst of {size}", lambda tag, size=size: _burst(users[:size], deadline)))
    return found


def _scenario_rank(name: str) -> tuple[int, int]:
    kind = 0 if name.startswith("sequential") else 1 if name.startswith("chats") else 2
    return kind, int(name.rsplit(" ", 1)[1]) if kind == 2 else 0


if __name__ == "__main__":
    main()
