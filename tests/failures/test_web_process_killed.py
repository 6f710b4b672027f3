"""A web process driving a run is killed outright (SIGKILL: the OOM killer, a deploy past its grace
period) in the middle of a streamed reply: the run does not stay `running` until the stale-run sweep,
the text streamed so far is kept, and a client resuming on another web process gets it and the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from django.db import connection

from agentapp.platform.database import database_url
from apikeys.services import apikey_create
from sessions_app.models import Message, Run
from tests.chat.sse import Frame, parse_frames

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = " ".join(f"word{i}" for i in range(200)) + "."


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _web_process(tmp_path, fake_openai) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.failures.worker_settings",
        "DATABASE_URL": database_url(connection),  # the test database
        "DB_POOL": "0",
        "AGENTAPP_VAR_DIR": str(tmp_path),
        "DEBUG": "1",
        "AGENT_MODEL": "chat:gpt-test",
        "OPENAI_BASE_URL": fake_openai.base_url,
        "OPENAI_API_KEY": "sk-test-secret-123",
        "AGENT_BACKGROUND_TASKS": "inline",
        "AGENT_HEARTBEAT_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "agentapp.asgi:application", "--port", str(port)]
    web = subprocess.Popen(command, env=environment)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return web, base
        except httpx.HTTPError:
            time.sleep(0.1)
    web.kill()
    raise AssertionError("the web process did not start")


def _start(base: str, token: str, *, content_events: int) -> list[Frame]:
    frames: list[Frame] = []
    with (
        httpx.Client(base_url=base, timeout=20) as http,
        http.stream(
            "POST",
            "/api/runs",
            json={"message": "Count for me", "session_id": "killed", "stream": True},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status_code == 200
        for frame in parse_frames(response.iter_lines()):
            frames.append(frame)
            if sum(f.event == "RunContent" for f in frames) == content_events:
                break
    return frames


def _text(frames: list[Frame]) -> str:
    return "".join(json.loads(f.data).get("content", "") for f in frames if f.event == "RunContent")


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM"])
def test_a_run_whose_web_process_is_killed_ends_with_its_text_and_a_resuming_client_gets_the_end(
    tmp_path, asgi_server, alice, fake_openai, stop
):
    """SIGTERM: a graceful stop (a deploy) hands its runs off the same way, with what they said."""
    fake_openai.reply(text=WORDS, chunk_delay=0.05)  # about ten seconds of reply
    token = apikey_create(user=alice, name="killed")[1]
    web, base = _web_process(tmp_path, fake_openai)
    try:
        seen = _start(base, token, content_events=3)
        run_id = json.loads(seen[0].data)["run_id"]
        time.sleep(1.5)  # the driver checkpoints what it streamed about once a second
        web.send_signal(getattr(signal, stop))
        web.wait(timeout=10)
    finally:
        if web.poll() is None:
            web.kill()
    if stop == "SIGKILL":
        assert Run.objects.get(run_id=run_id).status == Run.Status.RUNNING  # nobody said it ended

    started = time.monotonic()
    with (
        httpx.Client(base_url=asgi_server, timeout=60) as http,
        http.stream(
            "GET",
            f"/api/runs/{run_id}/events",
            headers={"Authorization": f"Bearer {token}", "Last-Event-ID": seen[-1].id},
        ) as response,
    ):
        assert response.status_code == 200
        rest = list(parse_frames(response.iter_lines()))
    waited = time.monotonic() - started

    endings = [f for f in rest if f.event in ("RunError", "RunCancelled")]
    assert len(endings) == 1 and rest[-1].event in (endings[0].event, "done")
    assert waited < 30  # the lease lapsed: not the 900 s of the stale-run sweep
    ids = [int(f.id) for f in seen + rest if f.id is not None]
    assert ids == sorted(set(ids))  # each event once, in order
    run = Run.objects.get(run_id=run_id)
    text = _text(seen) + _text(rest)
    assert len(text) > len(_text(seen))  # the checkpoint kept more than the client had seen
    assert Message.objects.filter(run=run, role="assistant").get().content == run.content
    if stop == "SIGKILL" or run.status == Run.Status.ERROR:  # ended by the lease's lapse
        assert endings[0].event == "RunError" and "stopped" in json.loads(endings[0].data)["error"]
        assert run.status == Run.Status.ERROR and "stopped" in run.error
        assert run.content == text and WORDS.startswith(text)
    else:  # a graceful stop may end its run itself on its way out, with all it had said
        assert run.status == Run.Status.CANCELLED
        assert run.content.startswith(text) and WORDS.startswith(run.content)
