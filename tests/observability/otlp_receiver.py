"""A loopback OTLP/HTTP receiver: what an OpenTelemetry collector would get, decoded.

A threaded http.server on 127.0.0.1:0 taking POST /v1/traces (protobuf, gzip or not), decoding each
ExportTraceServiceRequest with opentelemetry-proto into plain spans the tests assert on.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


@dataclass
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]
    status_code: int
    service: str
    start_ns: int
    end_ns: int


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which) if which else None


@dataclass
class OtlpReceiver:
    url: str = ""
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Sends what the exporter still holds; the `tracing` fixture sets it to its provider's flush.
    flush: Callable[[], bool] = lambda: True

    @property
    def traces_url(self) -> str:
        return f"{self.url}/v1/traces"

    def take(self, raw: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(raw)
        received = []
        for resource_spans in request.resource_spans:
            resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            kind=span.kind,
                            attributes={kv.key: _value(kv.value) for kv in span.attributes},
                            status_code=span.status.code,
                            service=str(resource.get("service.name", "")),
                            start_ns=span.start_time_unix_nano,
                            end_ns=span.end_time_unix_nano,
                        )
                    )
        with self.lock:
            self.requests += 1
            self.spans.extend(received)

    def in_trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self.lock:
            return [span for span in self.spans if span.trace_id == trace_id]

    def named(self, prefix: str, trace_id: str | None = None) -> list[ReceivedSpan]:
        with self.lock:
            return [
                s
                for s in self.spans
                if s.name.startswith(prefix) and (trace_id is None or s.trace_id == trace_id)
            ]

    def wait_for(self, condition, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; received: {[s.name for s in self.spans]}"
                )
            time.sleep(0.05)


def _handler(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.headers.get("content-encoding") == "gzip":
                raw = gzip.decompress(raw)
            if self.path != "/v1/traces" or "protobuf" not in (self.headers.get("content-type") or ""):
                self.send_response(404)
                self.end_headers()
                return
            receiver.take(raw)
            body = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def tracing(otlp_receiver: OtlpReceiver) -> Iterator[OtlpReceiver]:
    """The runtime's spans sent (OTLP/HTTP, the SDK's batch processor) to the loopback receiver."""
    from agentapp.agent import telemetry
    from agentapp.observability.tracing import tracing_provider

    provider = tracing_provider(endpoint=otlp_receiver.traces_url)
    telemetry.use_tracer_provider(provider)
    otlp_receiver.flush = lambda: provider.force_flush(10_000)
    try:
        yield otlp_receiver
    finally:
        telemetry.use_tracer_provider(None)
        provider.shutdown()
