"""A loopback OpenAI-compatible server for tests.

It speaks `POST /v1/chat/completions` and `POST /v1/responses`, as JSON or as
server-sent events when the request body has `"stream": true`, in the shapes
the openai SDK parses, and `POST /v1/embeddings` (deterministic vectors: a
hashed bag of words, so texts sharing words are alike; `embedding_fault(...)`
scripts a failure or a delay, `embedding_dimensions` the vectors' length).
Replies are scripted FIFO and rendered in the format of whichever endpoint asks:

    server.reply(text="Hello")
    server.reply(tool_calls=[("add_memory", {"memory": "x"})])
    server.reply(status=429, error="slow down", headers={"retry-after": "1"})

Every request is recorded in `server.requests`. Load the `fake_openai` fixture
with `pytest_plugins = ["tests.fake_openai"]`.

A script's memory update asks its first request alongside the reply's, so the two may arrive in
either order: a reply scripted with `lane="memory_manager"` goes only to the memory manager's
requests (which take an untagged one when none is tagged), and untagged replies go to the others.
`hold` keeps an answer back until an event is set (so a test can put two requests in an order);
`sent` is set once the answer has been sent whole.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = ["FakeOpenAI", "RecordedRequest", "Reply", "fake_embedding", "fake_openai"]

NO_REPLY_ERROR = "fake_openai: no scripted reply"
MEMORY_MANAGER_LANE = "memory_manager"
MEMORY_MANAGER_MARK = "The user's messages in this turn:"  # the manager's request, as it words it
HOLD_AT_MOST = 5.0  # seconds a held answer waits for its event: a safety net, not a test of time
ARGUMENT_PIECE = 8  # characters per streamed tool-argument fragment, so arguments always arrive split


@dataclass
class Reply:
    """One scripted answer. `status` >= 400 sends an OpenAI-shaped error body instead."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    status: int = 200
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering at all
    chunk_delay: float = 0.0  # seconds between streamed pieces
    cut_after: int | None = None  # streamed: drop the connection after this many pieces
    cut_cleanly: bool = False  # with cut_after: end the HTTP body properly instead of dropping it
    stream_error: str | None = None  # streamed: send an error event instead of completing
    usage: tuple[int, int] | None = None  # (input, output) tokens; estimated when None
    lane: str | None = None  # MEMORY_MANAGER_LANE: only for the memory manager's requests
    hold: threading.Event | None = None  # the answer waits for this (at most HOLD_AT_MOST)
    sent: threading.Event = field(default_factory=threading.Event)  # set once the answer is sent


@dataclass
class RecordedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Call:
    id: str
    item_id: str
    name: str
    arguments: str


class _Aborted(Exception):
    """The script asked to drop the connection mid-stream."""


def _inputs(body: dict[str, Any]) -> list[str]:
    value = body.get("input", [])
    return [value] if isinstance(value, str) else [str(item) for item in value]


def fake_embedding(text: str, dimensions: int = 64) -> list[float]:
    """A unit vector from the text's words, each word hashed to one coordinate: texts that share
    words point the same way, and the same text always gets the same vector."""
    import hashlib

    vector = [0.0] * dimensions
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
        vector[int.from_bytes(digest, "big") % dimensions] += 1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if not norm:
        vector[0], norm = 1.0, 1.0
    return [x / norm for x in vector]


def request_lane(body: dict[str, Any]) -> str | None:
    """MEMORY_MANAGER_LANE for the automatic memory update's requests, else None."""
    return MEMORY_MANAGER_LANE if MEMORY_MANAGER_MARK in json.dumps(body, ensure_ascii=False) else None


def _word_chunks(text: str) -> list[str]:
    return [piece for piece in re.findall(r"\S*\s*", text) if piece]


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _estimate(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.embedding_requests: list[RecordedRequest] = []
        self.embedding_dimensions = 64
        self._embedding_faults: deque[Reply] = deque()
        self.responder: Callable[[RecordedRequest], Reply | None] | None = None
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._counter = 0
        self._call_counter = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd = httpd
        # A short poll interval keeps stop() (which waits for the next poll) fast.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAI is not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ---------------------------------------------------------

    def reply(self, **kwargs: Any) -> Reply:
        """Queue one reply; takes the fields of `Reply`."""
        reply = Reply(**kwargs)
        if reply.tool_calls:
            reply.tool_calls = list(reply.tool_calls)
        with self._lock:
            self._queue.append(reply)
        return reply

    def embedding_fault(self, **kwargs: Any) -> Reply:
        """Queue one failure (status, error, headers) or delay for the next embeddings request."""
        reply = Reply(**kwargs)
        with self._lock:
            self._embedding_faults.append(reply)
        return reply

    def embedded_texts(self) -> list[str]:
        return [text for request in self.embedding_requests for text in _inputs(request.body)]

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._embedding_faults.clear()
            self.embedding_requests.clear()
            self.requests.clear()
            self.responder = None
            self._counter = 0
            self._call_counter = 0

    # -- used by the handler -----------------------------------------------

    def _record(self, request: RecordedRequest) -> Reply | None:
        lane = request_lane(request.body)
        with self._lock:
            self.requests.append(request)
            for wanted in dict.fromkeys((lane, None)):
                for reply in self._queue:
                    if reply.lane == wanted:
                        self._queue.remove(reply)
                        return reply
            responder = self.responder
        return responder(request) if responder is not None else None

    def _next_number(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _next_call_number(self) -> int:
        with self._lock:
            self._call_counter += 1
            return self._call_counter


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up leave broken pipes behind; that is expected here.
        pass


class _Handler(BaseHTTPRequestHandler):
    # Headers and body go out in separate writes: without TCP_NODELAY a reply waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        # The model list: what a status check asks, spending no tokens.
        if self.path.split("?", 1)[0] == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": "gpt-test", "object": "model"}]}, {})
            return
        self._send_error(404, f"fake_openai: unknown path {self.path}", {})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        headers = {key.lower(): value for key, value in self.headers.items()}
        path = self.path.split("?", 1)[0]
        if path == "/v1/embeddings":
            self._embeddings(RecordedRequest(path=path, body=body, headers=headers))
            return
        if path not in ("/v1/chat/completions", "/v1/responses"):
            self._send_error(404, f"fake_openai: unknown path {path}", {})
            return
        reply = self.fake._record(RecordedRequest(path=path, body=body, headers=headers))
        if reply is None:
            self._send_error(500, NO_REPLY_ERROR, {"x-should-retry": "false"})
            return
        if reply.delay:
            time.sleep(reply.delay)
        if reply.hold is not None:
            reply.hold.wait(HOLD_AT_MOST)
        try:
            if reply.status >= 400:
                message = reply.error or f"fake_openai error {reply.status}"
                self._send_error(reply.status, message, reply.headers)
                return
            render = _Render(self.fake, reply, body, chat=path.endswith("/chat/completions"))
            if body.get("stream"):
                self._send_stream(reply, render.events())
            else:
                self._send_json(200, render.json(), reply.headers)
        finally:
            reply.sent.set()

    def _embeddings(self, request: RecordedRequest) -> None:
        fake = self.fake
        with fake._lock:
            fake.embedding_requests.append(request)
            fault = fake._embedding_faults.popleft() if fake._embedding_faults else None
            dimensions = fake.embedding_dimensions
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status >= 400:
            self._send_error(fault.status, fault.error or f"fake_openai error {fault.status}", fault.headers)
            return
        texts = _inputs(request.body)
        data = [
            {"object": "embedding", "index": i, "embedding": fake_embedding(text, dimensions)}
            for i, text in enumerate(texts)
        ]
        tokens = sum(_estimate(len(text)) for text in texts)
        payload = {
            "object": "list",
            "data": data,
            "model": request.body.get("model", ""),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        self._send_json(200, payload, {})

    # -- writing -------------------------------------------------------------

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str, headers: dict[str, str]) -> None:
        kind = (
            "rate_limit_exceeded"
            if status == 429
            else "server_error"
            if status >= 500
            else "invalid_request_error"
        )
        payload = {"error": {"message": message, "type": kind, "param": None, "code": None}}
        self._send_json(status, payload, headers)

    def _send_stream(self, reply: Reply, events: Iterator[str]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        if reply.cut_after is not None:  # a cut stream ends the connection; whole ones keep it, as OpenAI's
            self.send_header("connection", "close")
            self.close_connection = True
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            for event in events:
                data = event.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
        except _Aborted:
            if not reply.cut_cleanly:
                return  # no terminating chunk: the client sees the connection drop
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Render:
    """Turns one `Reply` into a Chat Completions or Responses payload or event stream."""

    def __init__(self, fake: FakeOpenAI, reply: Reply, body: dict[str, Any], *, chat: bool) -> None:
        self.reply = reply
        self.body = body
        self.chat = chat
        self.model = str(body.get("model") or "fake-model")
        self.number = fake._next_number()
        self.created = int(time.time())
        self.calls: list[_Call] = []
        for name, arguments in reply.tool_calls:
            n = fake._next_call_number()
            args = arguments if isinstance(arguments, str) else json.dumps(arguments)
            self.calls.append(_Call(id=f"call_{n}", item_id=f"fc_{n}", name=name, arguments=args))
        if reply.usage is not None:
            self.input_tokens, self.output_tokens = reply.usage
        else:
            prompt = body.get("messages") or [body.get("instructions"), body.get("input")]
            self.input_tokens = _estimate(len(json.dumps(prompt)))
            self.output_tokens = _estimate(len(reply.text) + sum(len(c.arguments) for c in self.calls))
        self.sequence = 0
        self.pieces_sent = 0

    def json(self) -> dict[str, Any]:
        return self._chat_completion() if self.chat else self._response("completed")

    def events(self) -> Iterator[str]:
        return self._chat_events() if self.chat else self._responses_events()

    def _piece(self) -> None:
        """Called before each streamed piece: pacing and scripted cuts."""
        reply = self.reply
        if reply.cut_after is not None and self.pieces_sent >= reply.cut_after:
            raise _Aborted
        if reply.chunk_delay and self.pieces_sent:
            time.sleep(reply.chunk_delay)
        self.pieces_sent += 1

    # -- Chat Completions ------------------------------------------------------

    def _chat_usage(self) -> dict[str, int]:
        total = self.input_tokens + self.output_tokens
        return dict(prompt_tokens=self.input_tokens, completion_tokens=self.output_tokens, total_tokens=total)

    def _finish_reason(self) -> str:
        return "tool_calls" if self.calls else "stop"

    def _chat_completion(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.reply.text or None, "refusal": None}
        if self.calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.calls
            ]
        return {
            "id": f"chatcmpl-{self.number}",
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": self._finish_reason(), "logprobs": None}
            ],
            "usage": self._chat_usage(),
        }

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> str:
        chunk = {
            "id": f"chatcmpl-{self.number}",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
            **extra,
        }
        return f"data: {json.dumps(chunk)}\n\n"

    def _chat_events(self) -> Iterator[str]:
        yield self._chunk({"role": "assistant", "content": ""})
        for piece in _word_chunks(self.reply.text):
            self._piece()
            yield self._chunk({"content": piece})
        for index, call in enumerate(self.calls):
            self._piece()
            head = {"index": index, "id": call.id, "type": "function"}
            yield self._chunk({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
            for fragment in _pieces(call.arguments, ARGUMENT_PIECE):
                self._piece()
                yield self._chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
        if self.reply.stream_error:
            error = {"message": self.reply.stream_error, "type": "server_error", "param": None, "code": None}
            yield f"data: {json.dumps({'error': error})}\n\n"
            return
        yield self._chunk({}, self._finish_reason())
        if (self.body.get("stream_options") or {}).get("include_usage"):
            yield self._chunk({}, choices=[], usage=self._chat_usage())
        yield "data: [DONE]\n\n"

    # -- Responses -------------------------------------------------------------

    def _message_item(self, text: str, status: str) -> dict[str, Any]:
        content = [_text_part(text)] if status == "completed" else []
        return dict(id=f"msg_{self.number}", type="message", status=status, role="assistant", content=content)

    def _call_item(self, call: _Call, arguments: str, status: str) -> dict[str, Any]:
        return dict(
            id=call.item_id,
            type="function_call",
            status=status,
            call_id=call.id,
            name=call.name,
            arguments=arguments,
        )

    def _output(self) -> list[dict[str, Any]]:
        items = [self._message_item(self.reply.text, "completed")] if self.reply.text else []
        return items + [self._call_item(c, c.arguments, "completed") for c in self.calls]

    def _response(self, status: str, error: dict[str, Any] | None = None) -> dict[str, Any]:
        done = status in ("completed", "incomplete")
        total = self.input_tokens + self.output_tokens
        usage = {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": total,
        }
        return {
            "id": f"resp_{self.number}",
            "object": "response",
            "created_at": self.created,
            "status": status,
            "error": error,
            "incomplete_details": None,
            "instructions": self.body.get("instructions"),
            "model": self.model,
            "output": self._output() if done else [],
            "parallel_tool_calls": True,
            "store": bool(self.body.get("store", True)),
            "temperature": self.body.get("temperature", 1.0),
            "tool_choice": "auto",
            "tools": self.body.get("tools") or [],
            "top_p": 1.0,
            "usage": usage if done else None,
        }

    def _event(self, kind: str, **fields: Any) -> str:
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps(payload)}\n\n"

    def _responses_events(self) -> Iterator[str]:
        yield self._event("response.created", response=self._response("in_progress"))
        yield self._event("response.in_progress", response=self._response("in_progress"))
        index = 0
        text = self.reply.text
        if text:
            item_id = f"msg_{self.number}"
            place = {"item_id": item_id, "output_index": index, "content_index": 0}
            yield self._event(
                "response.output_item.added", output_index=index, item=self._message_item("", "in_progress")
            )
            yield self._event("response.content_part.added", **place, part=_text_part(""))
            for piece in _word_chunks(text):
                self._piece()
                yield self._event("response.output_text.delta", **place, delta=piece, logprobs=[])
            yield self._event("response.output_text.done", **place, text=text, logprobs=[])
            yield self._event("response.content_part.done", **place, part=_text_part(text))
            yield self._event(
                "response.output_item.done", output_index=index, item=self._message_item(text, "completed")
            )
            index += 1
        for call in self.calls:
            self._piece()
            place = {"item_id": call.item_id, "output_index": index}
            yield self._event(
                "response.output_item.added",
                output_index=index,
                item=self._call_item(call, "", "in_progress"),
            )
            for fragment in _pieces(call.arguments, ARGUMENT_PIECE):
                self._piece()
                yield self._event("response.function_call_arguments.delta", **place, delta=fragment)
            yield self._event(
                "response.function_call_arguments.done", **place, name=call.name, arguments=call.arguments
            )
            yield self._event(
                "response.output_item.done",
                output_index=index,
                item=self._call_item(call, call.arguments, "completed"),
            )
            index += 1
        if self.reply.stream_error:
            error = {"code": "server_error", "message": self.reply.stream_error}
            yield self._event("response.failed", response=self._response("failed", error))
            return
        yield self._event("response.completed", response=self._response("completed"))


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
