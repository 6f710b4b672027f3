"""Structured logs (LOG_FORMAT=json): one JSON object a line, with the run's ids and trace id."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from agentapp.observability.logs import JsonFormatter

pytestmark = pytest.mark.django_db


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def tool_log():
    logger = logging.getLogger("tests.observability.tool")
    handler = Lines()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, handler
    logger.removeHandler(handler)


def test_a_line_logged_during_a_run_carries_its_ids_and_trace_id(tracing, tool_log, make_agent, fake_openai):
    logger, handler = tool_log

    def look_up_trains(destination: str) -> str:
        """Trains to a destination."""
        logger.info("looking up trains to %s", destination)
        return "The 9:12 to Porto."

    fake_openai.reply(tool_calls=[("look_up_trains", {"destination": "Porto"})])
    fake_openai.reply(text="Take the 9:12.")
    output = make_agent("chat", tools=[look_up_trains]).run(
        "Trains to Porto?", user_id="sarah", session_id="t1"
    )
    logger.info("after the run")
    assert tracing.flush()
    (run,) = [s for s in tracing.named("invoke_agent") if s.attributes["agentapp.run_id"] == output.run_id]

    during, after = handler.lines
    assert during["message"] == "looking up trains to Porto" and during["level"] == "INFO"
    assert during["logger"] == "tests.observability.tool"
    assert (during["run_id"], during["session_id"], during["user_id"]) == (output.run_id, "t1", "sarah")
    assert during["trace_id"] == run.trace_id
    assert "run_id" not in after and "trace_id" not in after  # the run is over


def test_fields_given_to_a_log_call_are_kept():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "sent %s", ("job",), None)
    record.run_id = "run_abc"
    line = json.loads(JsonFormatter().format(record))
    assert line["run_id"] == "run_abc" and line["message"] == "sent job"


def test_log_format_json_makes_every_line_a_json_object(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agentapp.settings",
        "LOG_FORMAT": "json",
        "AGENTAPP_VAR_DIR": str(tmp_path),
    }
    script = "import django, logging; django.setup(); logging.getLogger('agentapp.x').warning('plain words')"
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    (line,) = [json.loads(text) for text in result.stderr.splitlines() if text.strip()]
    assert line["message"] == "plain words" and line["logger"] == "agentapp.x" and line["level"] == "WARNING"
