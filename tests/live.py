"""Fixtures for tests that need the real app over HTTP: uvicorn (ASGI) and Playwright on Debian's chromium.

The server runs the production path (ASGI, so streamed replies really stream)
in a thread against the test database; tests using it get `transactional_db`.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve() -> Iterator[str]:
    import uvicorn

    from agentapp.asgi import application

    port = _free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def asgi_server(transactional_db) -> Iterator[str]:
    """The app under uvicorn on a loopback port; yields its base URL."""
    yield from _serve()


@pytest.fixture
def other_asgi_server(transactional_db) -> Iterator[str]:
    """A second server, with an event loop of its own: to the first, another web worker (the runs it
    drives, and the NOTIFY listener, are per event loop, as they are per process)."""
    yield from _serve()


# Module scope: Playwright's loop must not outlive the browser tests, or later
# tests that call asyncio.run() in this thread would find a loop running.
@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium (apt-get install chromium); .ci/run installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("needs playwright (pip install -e '.[dev]')")
    # Playwright's sync API runs an event loop in this thread; the ORM calls tests make are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser, asgi_server):
    context = browser.new_context(base_url=asgi_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def send_message(page, text: str) -> None:
    """Type `text` in the chat's composer and press Enter, as a person does."""
    page.fill("#composer textarea", text)
    page.press("#composer textarea", "Enter")
