"""Schemathesis against the app's own OpenAPI schema: no 5xx, and every response as documented.

Stateless, with a service key (so every route and any user_id is reachable), against the real ASGI
app under uvicorn and the loopback model. Valid and invalid inputs both; FUZZ_EXAMPLES sets the
number of examples per operation and mode.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apikeys.services import apikey_create
from tests.fake_openai import Reply

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def _fuzz(operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @SETTINGS
    @given(case=operation.as_strategy(mode))
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    run()


def test_the_api_answers_every_generated_request_as_its_schema_says(asgi_server, app_model, staff):
    app_model.responder = lambda request: Reply(text="Noted.")
    headers = {"Authorization": f"Bearer {apikey_create(user=staff, name='fuzz')[1]}"}
    schema = schemathesis.openapi.from_url(f"{asgi_server}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 30
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, headers)
            except Exception as exc:  # collect all, so one run shows every broken route
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def test_the_agentos_api_answers_every_generated_request_as_its_schema_says(asgi_server, app_model, staff):
    """The same for the AgentOS-compatible routes (/os/), a NinjaAPI of their own."""
    app_model.responder = lambda request: Reply(text="Noted.")
    headers = {"Authorization": f"Bearer {apikey_create(user=staff, name='fuzz')[1]}"}
    schema = schemathesis.openapi.from_url(f"{asgi_server}/os/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 26
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, headers)
            except Unsatisfiable:  # /health takes nothing: there is no invalid request to make
                assert operation.path == "/os/health" and mode == GenerationMode.NEGATIVE
            except Exception as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
