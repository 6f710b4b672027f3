"""Structured logs (LOG_FORMAT=json): one JSON object a line, carrying the ids of the run being
served (run_id, session_id, user_id) and its trace id, so that one search finds a run's every line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from opentelemetry import trace

from agentapp.agent.telemetry import log_fields

FIELDS = ("run_id", "session_id", "user_id", "trace_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(log_fields())
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry.setdefault("trace_id", trace.format_trace_id(span.trace_id))
            entry["span_id"] = trace.format_span_id(span.span_id)
        for name in FIELDS:  # given with extra={...}: they win
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
