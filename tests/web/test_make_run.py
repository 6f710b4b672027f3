"""`make run` starts and stops cleanly: no warning from the broker URL, none from static files
served under ASGI, and the recipe stops its two processes without killing make."""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from pathlib import Path

from django.conf import settings
from kombu import Connection

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def test_the_default_broker_url_names_its_host_so_kombu_warns_of_nothing(caplog):
    source = (Path(settings.BASE_DIR) / "agentapp" / "settings.py").read_text()
    default = re.search(r'os\.environ\.get\("CELERY_BROKER_URL", "([^"]+)"\)', source)
    assert default, "no default broker URL"
    caplog.set_level(logging.WARNING, logger="kombu.connection")
    Connection(default.group(1))._info()
    assert "No hostname was supplied" not in caplog.text


def _asgi_get(path: str) -> tuple[int, bytes]:
    from agentapp.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if requests:
            return requests.pop()
        await asyncio.sleep(3600)  # the client stays connected; cancelled once the response is sent
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(application(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_static_file_served_under_asgi_comes_whole_and_without_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, body = _asgi_get("/static/css/app.css")
    assert status == 200
    assert body == (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_bytes()
    assert [str(w.message) for w in caught if "iterator" in str(w.message)] == []


def test_make_run_starts_uvicorn_with_lifespan_and_stops_its_processes_without_killing_make():
    recipe = MAKEFILE.read_text().split("\nrun: ", 1)[1].split("\n\n", 1)[0]
    assert "--lifespan on" in recipe  # its shutdown is when the web process says it stopped
    assert "kill 0" not in recipe  # it sent SIGTERM to make and to Celery's pool processes
    assert re.search(r"trap '.*kill -TERM \$\$celery \$\$web.*exit 0' INT TERM", recipe), recipe
