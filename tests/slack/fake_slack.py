"""A loopback Slack Web API: a threaded HTTP server on 127.0.0.1:0 that answers the calls the app
makes (chat.postMessage, chat.update, chat.postEphemeral, conversations.info) as Slack does, and
records each one for the tests to read. The app's real SDK client talks to it via SLACK_API_URL."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str
    result: dict[str, Any]

    @property
    def text(self) -> str:
        """What the message says, given as plain text or as Markdown."""
        return str(self.args.get("markdown_text") or self.args.get("text") or "")


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.channel_names: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ts = 1_700_000_000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def called(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, *, count: int = 1, text: str | None = None, timeout: float = 20
    ) -> list[Call]:
        """The calls of `method` once there are `count` (and, with `text`, one whose text has it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.called(method)
            if len(calls) >= count and (text is None or any(text in c.text for c in calls)):
                return calls
            time.sleep(0.05)
        raise AssertionError(f"no {method} (x{count}, {text!r}) within {timeout}s: {self.calls}")

    def answer(self, method: str, args: dict[str, Any], token: str) -> dict[str, Any]:
        with self._lock:
            self._ts += 1
            ts = f"{self._ts}.000100"
        result = self._result(method, args, ts)
        with self._lock:
            self.calls.append(Call(method, args, token, result))
        return result

    def _result(self, method: str, args: dict[str, Any], ts: str) -> dict[str, Any]:
        if method == "chat.postMessage":
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text") or args.get("markdown_text")},
            }
        if method == "chat.update":
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": args.get("ts"),
                "text": args.get("text") or args.get("markdown_text"),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "conversations.info":
            name = self.channel_names.get(str(args.get("channel")))
            if name is None:
                return {"ok": False, "error": "missing_scope"}
            return {"ok": True, "channel": {"id": args.get("channel"), "name": name}}
        return {"ok": False, "error": "unknown_method"}


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                args = json.loads(raw or "{}")
            else:
                args = dict(parse_qsl(raw))
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            body = json.dumps(fake.answer(self.path.rsplit("/", 1)[-1], args, token)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
