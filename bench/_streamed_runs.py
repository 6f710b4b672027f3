"""What bench/load.py and bench/vs_agentos.py share: the loopback model and our server as
subprocesses, a minimal asyncio HTTP/1.1 client for streamed runs, and CPU from /proc.

No Django here: the scripts that import this set Django up themselves.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
STREAM_WORDS = 21


@dataclass
class Result:
    ttfb: float | None = None
    ttft: float | None = None
    total: float | None = None
    error: str | None = None
    reconnected: bool = False
    text_ok: bool | None = None  # checked: the text received across both connections is the reply, once


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_model(chunk_delay: float, delay: float) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, str(ROOT / "bench" / "_loopback_model.py"), "--words", str(STREAM_WORDS)]
    command += ["--chunk-delay", str(chunk_delay), "--delay", str(delay)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def _start_server(port: int, base_url: str, workers: int, pool_max: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "ALLOWED_HOSTS": "127.0.0.1",
        "AGENT_MODEL": "chat:bench-model",
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_KEY": "sk-bench",
        "AGENT_BACKGROUND_TASKS": "celery",
        "CELERY_BROKER_URL": "filesystem://",
        "AGENT_RUNS_PER_MINUTE": "0",  # one run per user here; the limit is not what is measured
        "DB_POOL_MAX": str(pool_max),
    }
    command = [sys.executable, "-m", "uvicorn", "agentapp.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def _wait_ready(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not start")


class _Client:
    """A minimal HTTP/1.1 client for the streamed runs, one connection per run.

    The load generator shares the server's 2 cores; httpx spent about 5 ms of CPU per streamed
    run, several times this, and that came out of the server's share.
    """

    def __init__(self, base: str, key: str) -> None:
        address = base.removeprefix("http://")
        self.host, _, port = address.partition(":")
        self.port = int(port or 80)
        self.head = (
            f"POST /api/runs HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\nAccept: text/event-stream\r\nConnection: close\r\n"
        )

    def request(self, body: dict) -> bytes:
        payload = json.dumps(body).encode()
        return f"{self.head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload

    def follow(self, run_id: str, last_event_id: str) -> bytes:
        """GET /api/runs/{run_id}/events, resuming after `last_event_id`."""
        head = self.head.replace("POST /api/runs ", f"GET /api/runs/{run_id}/events ", 1)
        head = head.replace("Content-Type: application/json\r\n", "")
        return f"{head}Last-Event-ID: {last_event_id}\r\n\r\n".encode()


async def _body_lines(reader: asyncio.StreamReader, chunked: bool) -> AsyncIterator[str]:
    pending = b""
    while True:
        if chunked:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                break
            data = (await reader.readexactly(size + 2))[:-2]
        else:
            data = await reader.read(65536)
            if not data:
                break
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            yield line.rstrip(b"\r").decode()


class _Reading:
    """What one run's stream(s) said: the text, each event id once, and the reply as stored."""

    def __init__(self, check: bool, ends_at: str = "done") -> None:
        self.check = check
        self.ends_at = ends_at  # the event whose arrival ends the run's total time
        self.event: str | None = None
        self.last_id: str | None = None
        self.run_id: str | None = None
        self.contents = 0
        self.ids: list[int] = []
        self.text: list[str] = []
        self.reply: str | None = None


async def _read(
    reader: asyncio.StreamReader, result: Result, t0: float, seen: _Reading, stop_after: int | None
) -> bool:
    """Read one response; True when it was dropped on purpose after `stop_after` content events."""
    status = await reader.readline()
    if result.ttfb is None:
        result.ttfb = time.perf_counter() - t0
    chunked = False
    while (header := await reader.readline()) not in (b"\r\n", b""):
        chunked |= header.lower().replace(b" ", b"") == b"transfer-encoding:chunked\r\n"
    code = int(status.split()[1])
    if code != 200:
        result.error = f"HTTP {code}"
        return False
    async for line in _body_lines(reader, chunked):
        if line.startswith("id: "):
            seen.last_id = line[4:]
            if seen.check:
                seen.ids.append(int(seen.last_id))
        elif line.startswith("event: "):
            event = seen.event = line[7:]
            if event == "RunContent":
                seen.contents += 1
                if result.ttft is None:
                    result.ttft = time.perf_counter() - t0
            elif event == seen.ends_at:
                result.total = time.perf_counter() - t0
            elif event in ("RunError", "RunCancelled"):
                result.error = event
        elif line.startswith("data: "):
            if seen.event == "RunError":
                result.error = f"RunError: {json.loads(line[6:]).get('error')}"
            elif seen.check and seen.event in ("RunStarted", "RunContent", "RunCompleted"):
                data = json.loads(line[6:])
                seen.run_id = data.get("run_id", seen.run_id)
                if seen.event == "RunContent":
                    seen.text.append(data["content"])
                elif seen.event == "RunCompleted":
                    seen.reply = data["output"]["content"]
            if stop_after is not None and seen.event == "RunContent" and seen.contents >= stop_after:
                return True
    return False


async def _one(
    client: _Client, body: dict, *, drop_after: int | None = None, ends_at: str = "done"
) -> Result:
    """One streamed run; with `drop_after`, the connection is dropped after that many content
    events and the run followed again with Last-Event-ID (the text is then checked). `client` is
    anything with `host`, `port`, `request(body)` and `follow(run_id, last_event_id)`."""
    result = Result()
    seen = _Reading(check=drop_after is not None, ends_at=ends_at)
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(client.host, client.port)
        try:
            writer.write(client.request(body))
            dropped = await _read(reader, result, t0, seen, drop_after)
        finally:
            writer.close()
        if dropped and result.error is None:
            result.reconnected = True
            reader, writer = await asyncio.open_connection(client.host, client.port)
            try:
                writer.write(client.follow(seen.run_id or "", seen.last_id or "-1"))
                await _read(reader, result, t0, seen, None)
            finally:
                writer.close()
        if result.total is None and result.error is None:
            result.error = "stream ended without done"
        if seen.check and result.error is None:
            result.text_ok = seen.ids == list(range(len(seen.ids))) and "".join(seen.text) == seen.reply
    except (OSError, ValueError, IndexError, KeyError, asyncio.IncompleteReadError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


async def _gather(tasks: list[asyncio.Task], deadline: float, *, per_task: int) -> list[Result]:
    done, pending = await asyncio.wait(tasks, timeout=deadline)
    for task in pending:
        task.cancel()
    results: list[Result] = []
    for task in tasks:
        found = task.result() if task in done else []
        found = found if isinstance(found, list) else [found]
        results += found + [Result(error="deadline")] * (per_task - len(found))
    return results


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pids(pattern: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if pattern in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cpu(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    return {name: {pid: _cpu_seconds(pid) for pid in pids} for name, pids in groups.items()}


def _cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    # Processes started during the burst (new PostgreSQL backends) count from zero.
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _is_child(pid: int, parent: int) -> bool:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == parent
    except OSError:
        return False


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")
