"""Schemathesis's own runner, as a person would run it against the API: every check (`--checks all`),
every phase, the stateful one included (chains of calls along the schema's links: create a run,
read its session, rename it, delete it, ...). It must find nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from apikeys.services import apikey_create
from tests.fake_openai import Reply

MAX_EXAMPLES = os.environ.get("FUZZ_CLI_EXAMPLES", "20")
SEED = os.environ.get("FUZZ_CLI_SEED", "1")  # fixed, so a failure reproduces; vary it to explore
# What no schema can say: `as_of` must lie between when the person joined and now (docs/api.md), so a
# well-formed instant outside that span is a 422 with its reason. Only that operation allows it.
CONFIG = """
[[operations]]
include-path = "/api/memories"
include-method = "GET"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
"""


def test_schemathesis_finds_nothing_with_every_check_in_every_phase(asgi_server, app_model, staff, tmp_path):
    app_model.responder = lambda request: Reply(text="Noted.")
    token = apikey_create(user=staff, name="schemathesis")[1]
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{asgi_server}/api/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        MAX_EXAMPLES,
        "--workers",
        "1",
        "--seed",
        SEED,
        "--header",
        f"Authorization: Bearer {token}",
        "--continue-on-failure",
    ]

    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)

    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-3000:]
