"""The OpenTelemetry SDK, set up at startup only when the operator asks for traces with the standard
variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER).

Without them nothing is set up and the runtime's spans (agentapp.agent.telemetry, through the API
only) cost next to nothing. Spans go out over OTLP/HTTP (protobuf) in batches.
"""

from __future__ import annotations

import logging
import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

logger = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_provider: TracerProvider | None = None


def tracing_requested() -> bool:
    """Whether the environment asks for traces (the standard OTEL_* variables)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or any(os.environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def _exporter(endpoint: str | None) -> SpanExporter:
    if endpoint:
        return OTLPSpanExporter(endpoint=endpoint)
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        return ConsoleSpanExporter()
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    if protocol != "http/protobuf":
        logger.warning(
            "OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported; sending OTLP/HTTP (protobuf)", protocol
        )
    return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT


def tracing_provider(*, endpoint: str | None = None) -> TracerProvider:
    """A tracer provider exporting in batches over OTLP/HTTP.

    `endpoint`: the full traces URL (".../v1/traces"); by default the OTEL_* variables say.
    """
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "agentapp"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(endpoint)))
    return provider


def tracing_configure() -> TracerProvider:
    """Set up this process's global tracer provider from the OTEL_* variables (once)."""
    global _provider
    if _provider is not None:
        return _provider
    provider = tracing_provider()
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def tracing_flush(timeout_millis: int = 5000) -> bool:
    """Send the spans still buffered (a test, a worker about to stop); True when none were left."""
    return _provider.force_flush(timeout_millis) if _provider is not None else True


def trace_id_of_current_span() -> str:
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else ""
