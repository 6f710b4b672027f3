"""200 concurrent streaming chats through the real HTTP server, the same with half of the clients
dropping and resuming every reply, then 200 runs fired at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/agentapp_bench2_load python bench/load.py

Starts, as subprocesses on 127.0.0.1 only: the loopback model (bench/_loopback_model.py:
the tests' OpenAI-compatible fake, streaming a 21-word reply over 1 s, first word at
once) and the production server docs/operations.md names (`uvicorn agentapp.asgi:application
--workers 2`, DEBUG=0, the PostgreSQL pool, follow-ups enqueued on kombu's filesystem
broker with no worker, so no broker server is needed). Creates one service key and one
user per chat through the services, then runs two scenarios (a minimal asyncio HTTP/1.1
client, to leave the CPU to the server), each a streaming
`POST /api/runs` (`stream: true`) per message:

- chats: --chats people chat at once, each in a session of its own: --turns messages,
  each sent once the previous reply has finished and the person has read it and typed
  the next one (--think, seconds, uniformly drawn); the first message comes after a
  first think, so people do not all press Enter in the same millisecond.
- reconnect: as chats, with --reconnect people, half of whom drop the connection after
  3 text events of every reply and follow the run again (`GET /api/runs/{run_id}/events`
  with Last-Event-ID, on whichever worker takes the connection); the text received across
  both connections is checked against the stored reply: nothing lost, nothing twice.
- chat pages (--chat-pages N, off by default): as chats, through the chat page's stream
  (`GET /chat/runs/<run_id>/stream/` with a session cookie, for a pending run written here
  as the page's POST writes it): the frames carry the reply rendered as Markdown.
- burst: --burst runs (one per user, each a new session) released at the same instant:
  the worst case, a thundering herd.

Per run: TTFB (response headers), TTFT (first RunContent frame), total (the `done`
frame); "added" is the time over the model's own (its first-byte delay, and its
stream for the total). Everything is bounded by --deadline seconds per scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")
# DEBUG stays off; the server gets the same key, so the chat scenario's session cookies are its own.
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-bench-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from apikeys.services import apikey_create  # noqa: E402
from bench._streamed_runs import (  # noqa: E402
    STREAM_WORDS,
    Result,
    _body_lines,
    _Client,
    _cpu,
    _cpu_used,
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
from sessions_app.models import AgentSession, Run  # noqa: E402
from sessions_app.services import run_create, user_get_or_create  # noqa: E402

TARGET_ADDED_P95_MS = 250.0
DROP_AFTER = 3  # content events before a reconnecting client drops its connection


class _ChatClient:
    """The chat page's stream, as the browser opens it: `GET /chat/runs/<run_id>/stream/` with the
    person's session cookie, for a run the page's POST wrote as pending (written here directly)."""

    def __init__(self, base: str, cookies: dict[str, str]) -> None:
        address = base.removeprefix("http://")
        self.host, _, port = address.partition(":")
        self.port = int(port or 80)
        self.address = address
        self.cookies = cookies

    def request(self, run_id: str, username: str) -> bytes:
        return (
            f"GET /chat/runs/{run_id}/stream/ HTTP/1.1\r\nHost: {self.address}\r\n"
            f"Cookie: {settings.SESSION_COOKIE_NAME}={self.cookies[username]}\r\n"
            "Accept: text/event-stream\r\nConnection: close\r\n\r\n"
        ).encode()


def _pending_run(username: str) -> str:
    session, _ = AgentSession.objects.get_or_create(
        session_id=f"ses_chat_{username}", defaults={"user": user_get_or_create(username=username)}
    )
    run = run_create(session=session, input="Tell me something in twenty words.", status=Run.Status.PENDING)
    connection.close()
    return run.run_id


async def _one_chat(client: _ChatClient, username: str) -> Result:
    """One chat run: the stream's first text frame (`reply`, or `delta` before issue 17) and `done`."""
    result = Result()
    run_id = await asyncio.to_thread(_pending_run, username)
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(client.host, client.port)
        try:
            writer.write(client.request(run_id, username))
            status = await reader.readline()
            result.ttfb = time.perf_counter() - t0
            chunked = False
            while (header := await reader.readline()) not in (b"\r\n", b""):
                chunked |= header.lower().replace(b" ", b"") == b"transfer-encoding:chunked\r\n"
            if int(status.split()[1]) != 200:
                result.error = f"HTTP {int(status.split()[1])}"
                return result
            async for line in _body_lines(reader, chunked):
                if line in ("event: reply", "event: delta") and result.ttft is None:
                    result.ttft = time.perf_counter() - t0
                elif line == "event: done":
                    result.total = time.perf_counter() - t0
                elif 'class="run-error"' in line:
                    result.error = "the run failed"
        finally:
            writer.close()
        if result.total is None and result.error is None:
            result.error = "stream ended without done"
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


async def _chat_pages(
    base: str, cookies: dict[str, str], turns: int, think: tuple[float, float], deadline: float, seed: int
) -> list[Result]:
    """As `chats`, through the chat page's stream (Markdown rendered in every frame) instead of the API."""
    client, rng = _ChatClient(base, cookies), random.Random(seed)

    async def chat(username: str, pauses: list[float]) -> list[Result]:
        results = []
        for pause in pauses:
            await asyncio.sleep(pause)
            results.append(await _one_chat(client, username))
        return results

    tasks = [asyncio.create_task(chat(user, [rng.uniform(*think) for _ in range(turns)])) for user in cookies]
    return await _gather(tasks, deadline, per_task=turns)


def _cookies(usernames: list[str]) -> dict[str, str]:
    found = {}
    for username in usernames:
        client = Client()
        client.force_login(user_get_or_create(username=username))
        found[username] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return found


def _message(user_id: str, session_id: str | None = None) -> dict:
    body = {"message": "Tell me something in twenty words.", "user_id": user_id, "stream": True}
    return {**body, "session_id": session_id} if session_id else body


async def _fire(base: str, key: str, users: list[str], deadline: float) -> list[Result]:
    """One run per user, all released at the same instant."""
    client, start = _Client(base, key), asyncio.Event()

    async def one(user_id: str) -> Result:
        await start.wait()
        return await _one(client, _message(user_id))

    tasks = [asyncio.create_task(one(user)) for user in users]
    await asyncio.sleep(0.2)  # every task is waiting on the start line
    start.set()
    return await _gather(tasks, deadline, per_task=1)


async def _chats(
    base: str,
    key: str,
    users: list[str],
    turns: int,
    think: tuple[float, float],
    deadline: float,
    seed: int,
    *,
    droppers: int = 0,
) -> list[Result]:
    """Each user chats in a session of its own: think, send, read the whole streamed reply; `turns` times.
    The first `droppers` users lose the connection mid-reply (after DROP_AFTER content events) and
    follow the run again with Last-Event-ID, landing on whichever worker accepts the connection."""
    client, rng = _Client(base, key), random.Random(seed)

    async def chat(user_id: str, pauses: list[float], drop: bool) -> list[Result]:
        results = []
        for pause in pauses:
            await asyncio.sleep(pause)
            body = _message(user_id, f"ses_load_{user_id}")
            results.append(await _one(client, body, drop_after=DROP_AFTER if drop else None))
        return results

    tasks = [
        asyncio.create_task(chat(user, [rng.uniform(*think) for _ in range(turns)], i < droppers))
        for i, user in enumerate(users)
    ]
    return await _gather(tasks, deadline, per_task=turns)


def _py_spy(prefix: str, pids: list[int]) -> list[subprocess.Popen]:
    """py-spy (not a dependency: `pip install py-spy`) on each worker; stacks to PREFIX-<pid>.txt."""
    command = ["py-spy", "record", "--format", "raw", "--rate", "250", "--nonblocking"]
    profilers = [
        subprocess.Popen([*command, "-p", str(pid), "-o", f"{prefix}-{pid}.txt"], stdout=subprocess.DEVNULL)
        for pid in pids
    ]
    time.sleep(1.0)  # py-spy attaches
    return profilers


def _row(label: str, values: list[float], own: float) -> str:
    ms = [v * 1000 for v in values]
    cells = [statistics.median(ms), _pct(ms, 0.95), max(ms)] if ms else [float("nan")] * 3
    added = [statistics.median(ms) - own * 1000, _pct(ms, 0.95) - own * 1000] if ms else [float("nan")] * 2
    return (
        f"| {label:<22} | {own * 1000:>8.0f} | {cells[0]:>7.0f} | {cells[1]:>7.0f} | {cells[2]:>7.0f} | "
        f"{added[0]:>11.0f} | {added[1]:>11.0f} |"
    )


@dataclass
class Scenario:
    name: str
    description: str
    model_delay: float
    results: list[Result]
    wall: float
    cpu: dict[str, float]

    def report(self) -> bool:
        ok = [r for r in self.results if r.error is None]
        errors = [r.error for r in self.results if r.error is not None]
        print(f"### {self.name}: {self.description}; took {self.wall:.1f} s")
        print()
        print(
            f"| {'':<22} | {'model ms':>8} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} | "
            f"{'added p50':>11} | {'added p95':>11} |"
        )
        print(f"|{'-' * 24}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 12}:|{'-' * 12}:|")
        print(_row("time to first byte", [r.ttfb for r in ok], self.model_delay))
        print(_row("time to first token", [r.ttft for r in ok if r.ttft is not None], self.model_delay))
        print(_row("total", [r.total for r in ok], self.model_delay + 1.0))
        print()
        print(f"completed: {len(ok)}/{len(self.results)} runs; errors: {len(errors)}")
        checked = [r for r in self.results if r.text_ok is not None]
        if checked:
            whole = sum(bool(r.text_ok) for r in checked)
            reconnected = sum(r.reconnected for r in checked)
            print(
                f"dropped mid-reply and resumed with Last-Event-ID: {reconnected}; text whole and once: "
                f"{whole}/{len(checked)} (lost or duplicated: {len(checked) - whole})"
            )
        for error in sorted(set(errors))[:10]:
            print(f"  {errors.count(error)} x {error}")
        print(f"CPU seconds ({self.wall:.1f} s wall x {os.cpu_count()} CPUs available):")
        for name, used in self.cpu.items():
            print(f"  {name:<27} {used:6.2f} s  ({used / max(1, len(self.results)) * 1000:5.1f} ms per run)")
        ttft = [r.ttft * 1000 for r in ok if r.ttft is not None]
        added = _pct(ttft, 0.95) - self.model_delay * 1000 if ttft else float("inf")
        met = added < TARGET_ADDED_P95_MS and not errors and all(r.text_ok for r in checked)
        print(
            f"target: zero errors and p95 added latency (first token) < {TARGET_ADDED_P95_MS:.0f} ms: "
            f"{'met' if met else 'NOT met'}"
        )
        print()
        return met


def _measure(groups: dict[str, list[int]], work) -> tuple[list[Result], float, dict[str, float]]:
    """Run `work()`, returning its results, its wall time and the CPU each group of processes used."""
    before = _cpu(groups)
    started = time.perf_counter()
    results = work()
    wall = time.perf_counter() - started
    after = _cpu({**groups, "PostgreSQL (all backends)": _pids("postgres")})
    return results, wall, {name: _cpu_used(before[name], after[name]) for name in after}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=200, help="people chatting at once (0: skip)")
    parser.add_argument("--turns", type=int, default=3, help="messages each person sends")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(5.0, 15.0),
        metavar=("MIN", "MAX"),
        help="seconds a person takes to read a reply and type the next message",
    )
    parser.add_argument(
        "--reconnect",
        type=int,
        default=200,
        help="people chatting as in `chats`, half of whom drop mid-reply and resume (0: skip)",
    )
    parser.add_argument(
        "--chat-pages",
        type=int,
        default=0,
        help="people chatting as in `chats` through the chat page's stream, Markdown rendered (0: skip)",
    )
    parser.add_argument("--burst", type=int, default=200, help="runs released at the same instant (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool-max", type=int, default=40, help="DB_POOL_MAX per worker")
    parser.add_argument("--model-delay", type=float, default=0.0, help="model's first-byte delay, s")
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds for each scenario")
    parser.add_argument(
        "--warmup",
        type=int,
        default=40,
        help="runs at once before the scenarios (imports, pools), not counted",
    )
    parser.add_argument("--seed", type=int, default=7, help="for the think times")
    parser.add_argument("--py-spy", metavar="PREFIX", help="record each worker with py-spy during the burst")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    stamp = int(time.time())
    staff = user_get_or_create(username=f"bench-load-service-{stamp}")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    # A service key: its account may act for the people it names (ownership.acts_for_others).
    staff.user_permissions.add(Permission.objects.get(codename="act_for_others"))
    _, key = apikey_create(user=staff, name="load benchmark")
    people = max(args.chats, args.burst, args.reconnect, args.chat_pages)
    users = [user_get_or_create(username=f"bench-load-{stamp}-{i}").get_username() for i in range(people)]
    warm = [user_get_or_create(username=f"bench-warm-{stamp}-{i}").get_username() for i in range(args.warmup)]
    model, base_url = _start_model(1.0 / (STREAM_WORDS - 1), args.model_delay)
    port = _free_port()
    server = _start_server(port, base_url, args.workers, args.pool_max)
    base = f"http://127.0.0.1:{port}"
    scenarios: list[Scenario] = []
    try:
        _wait_ready(f"{base}/api/openapi.json", time.monotonic() + 60)
        asyncio.run(_fire(base, key, warm, 30))  # imports, pools and caches warm in both workers
        groups = {
            "uvicorn workers": [pid for pid in _pids("multiprocessing") if _is_child(pid, server.pid)],
            "PostgreSQL (all backends)": _pids("postgres"),
            "loopback model": [model.pid],
            "load client": [os.getpid()],
        }
        if args.chats:
            chatters = users[: args.chats]
            results, wall, cpu = _measure(
                groups,
                lambda: asyncio.run(
                    _chats(base, key, chatters, args.turns, tuple(args.think), args.deadline, args.seed)
                ),
            )
            think = f"{args.think[0]:g}-{args.think[1]:g} s"
            description = f"{args.chats} people chatting at once, {args.turns} messages each, {think} between"
            scenarios.append(Scenario("chats", description, args.model_delay, results, wall, cpu))
        if args.reconnect:
            chatters, droppers = users[: args.reconnect], args.reconnect // 2
            results, wall, cpu = _measure(
                groups,
                lambda: asyncio.run(
                    _chats(
                        base,
                        key,
                        chatters,
                        args.turns,
                        tuple(args.think),
                        args.deadline,
                        args.seed + 1,
                        droppers=droppers,
                    )
                ),
            )
            think = f"{args.think[0]:g}-{args.think[1]:g} s"
            description = (
                f"{args.reconnect} people chatting at once, {args.turns} messages each, {think} between; "
                f"{droppers} of them drop every reply after {DROP_AFTER} text events and resume it"
            )
            scenarios.append(Scenario("reconnect", description, args.model_delay, results, wall, cpu))
        if args.chat_pages:
            cookies = _cookies(users[: args.chat_pages])
            warm_pages = dict(list(cookies.items())[:10])  # the chat's templates, in both workers
            asyncio.run(_chat_pages(base, warm_pages, 1, (0.0, 0.1), 30, args.seed))
            results, wall, cpu = _measure(
                groups,
                lambda: asyncio.run(
                    _chat_pages(base, cookies, args.turns, tuple(args.think), args.deadline, args.seed + 2)
                ),
            )
            think = f"{args.think[0]:g}-{args.think[1]:g} s"
            description = (
                f"{args.chat_pages} people chatting at once through the chat page's stream, "
                f"{args.turns} messages each, {think} between"
            )
            scenarios.append(Scenario("chat pages", description, args.model_delay, results, wall, cpu))
        if args.burst:
            profilers = _py_spy(args.py_spy, groups["uvicorn workers"]) if args.py_spy else []
            results, wall, cpu = _measure(
                groups, lambda: asyncio.run(_fire(base, key, users[: args.burst], args.deadline))
            )
            for profiler in profilers:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=30)
            description = f"{args.burst} runs released at the same instant, each a new session"
            scenarios.append(Scenario("burst", description, args.model_delay, results, wall, cpu))
    finally:
        server.terminate()
        model.stdin.close()
        server.wait(timeout=30)
        model.wait(timeout=30)
        staff.delete()
        for username in users + warm:
            user_get_or_create(username=username).delete()

    print(
        f"POST /api/runs stream=true; uvicorn --workers {args.workers}, DB_POOL_MAX={args.pool_max}, "
        f"PostgreSQL; {os.cpu_count()} CPUs"
    )
    print(
        f"model: loopback, first byte after {args.model_delay * 1000:.0f} ms, {STREAM_WORDS} words over 1.0 s"
    )
    print()
    for scenario in scenarios:
        scenario.report()


if __name__ == "__main__":
    main()
