"""Every body of /api/ refuses a field it does not know (422, naming it), never drops it: AgentOS's
`memory` sent to PATCH /api/memories/{id} (whose field is `text`) must not answer 200 and keep the
old text."""

from __future__ import annotations

import re

import pytest

from agentapp.api import api
from memory_app.models import Memory
from memory_app.services import memory_create

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def _operations_with_a_body() -> list[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return sorted(
        (method, path) for path, ops in paths.items() for method, op in ops.items() if "requestBody" in op
    )


def test_there_are_bodies_to_check():
    assert len(_operations_with_a_body()) >= 8


@pytest.mark.parametrize(("method", "path"), _operations_with_a_body(), ids=lambda v: v)
def test_each_body_refuses_a_field_it_does_not_know(alice_api, method, path):
    url = re.sub(r"\{change_id\}", "1", path)
    url = re.sub(r"\{[a-z_]+\}", "x", url)
    response = getattr(alice_api, method)(url, json={"not_a_field": 1})
    body = assert_error(response, 422)
    refused = [d for d in body["detail"] if d["loc"][-1] == "not_a_field"]
    assert [d["type"] for d in refused] == ["extra_forbidden"], body


def test_patching_a_memory_with_agnos_memory_field_is_refused_and_changes_nothing(alice, alice_api):
    memory, _ = memory_create(user_pk=alice.pk, text="Alice likes tea", actor="person")
    response = alice_api.patch(f"/api/memories/{memory.memory_id}", json={"memory": "Alice likes coffee"})
    body = assert_error(response, 422)
    assert [d["loc"][-1] for d in body["detail"]] == ["memory"]
    assert Memory.objects.get(pk=memory.pk).text == "Alice likes tea"
