"""agent-ui's own request sequence (src/api/os.ts, useAIStreamHandler): health, agents, teams,
sessions, a streamed run posted as multipart form data, the session's runs, delete; asserting the
fields it reads. And what is not served answers JSON, never an HTML page."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from sessions_app.models import AgentSession
from tests.fake_openai import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def _json_objects(body: str) -> list[dict]:
    """As agent-ui reads a stream: every JSON object in it, whatever framing surrounds them."""
    return [json.loads(line[len("data: ") :]) for line in body.splitlines() if line.startswith("data: ")]


def test_agent_ui_sequence_is_answered_in_the_shapes_it_reads(agentos, app_model):
    app_model.responder = lambda request: Reply(text="Hello from the app.", chunk_delay=0.01)
    base = agentos.base_url
    headers = {**agentos.alice, "Content-Type": "application/json"}
    with httpx.Client(headers=headers, timeout=30) as ui:
        assert ui.get(f"{base}/health").status_code == 200
        agents = ui.get(f"{base}/agents").json()
        assert agents[0]["id"] == "agent" and agents[0]["db_id"] == "django"
        assert agents[0]["model"]["provider"]
        assert ui.get(f"{base}/teams").json() == []
        query = {"type": "agent", "component_id": "agent", "db_id": "django"}
        assert ui.get(f"{base}/sessions", params=query).json()["data"] == []

        form = {"message": (None, "Hi there"), "stream": (None, "true"), "session_id": (None, "")}
        post = httpx.post(f"{base}/agents/agent/runs", files=form, headers=agentos.alice, timeout=30)
        assert post.status_code == 200 and post.headers["content-type"].startswith("text/event-stream")
        chunks = _json_objects(post.text)
        assert chunks[0]["event"] == "RunStarted" and chunks[0]["session_id"]
        content = "".join(c["content"] for c in chunks if c["event"] == "RunContent")
        assert content == "Hello from the app."
        assert chunks[-1]["event"] == "RunCompleted" and chunks[-1]["content"] == "Hello from the app."
        assert all(isinstance(c["created_at"], int) for c in chunks)
        session_id = chunks[0]["session_id"]

        listed = ui.get(f"{base}/sessions", params=query).json()
        entry = listed["data"][0]
        assert entry["session_id"] == session_id and entry["session_name"] and entry["created_at"]
        assert listed["meta"]["total_count"] == 1

        runs = ui.get(
            f"{base}/sessions/{session_id}/runs", params={"type": "agent", "db_id": "django"}
        ).json()
        assert isinstance(runs, list) and len(runs) == 1
        assert runs[0]["run_input"] == "Hi there" and runs[0]["content"] == "Hello from the app."
        assert isinstance(runs[0]["created_at"], int)

        deleted = ui.delete(f"{base}/sessions/{session_id}", params={"db_id": "django"})
        assert deleted.status_code == 204
    assert not AgentSession.objects.filter(session_id=session_id).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/knowledge/content"),
        ("POST", "/knowledge/content"),
        ("GET", "/eval-runs"),
        ("POST", "/teams/research/runs"),
        ("GET", "/workflows"),
        ("POST", "/workflows/flow/runs"),
        ("GET", "/traces"),
    ],
)
def test_what_is_not_served_answers_a_json_404(agentos, method, path):
    response = httpx.request(method, agentos.base_url + path, headers=agentos.alice)
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    assert re.search(r"not served here", response.json()["detail"])


def test_a_run_form_refuses_a_field_it_does_not_know_and_an_unknown_agent(agentos):
    base = agentos.base_url
    unknown = httpx.post(
        f"{base}/agents/agent/runs", data={"message": "hi", "mesage": "x"}, headers=agentos.alice
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"][-1] == "mesage"
    other = httpx.post(f"{base}/agents/someone/runs", data={"message": "hi"}, headers=agentos.alice)
    assert other.status_code == 404 and "one agent" in other.json()["detail"]


def test_a_form_sent_where_json_is_expected_is_a_415_not_a_500(agentos):
    response = httpx.post(
        f"{agentos.base_url}/memories", files={"memory": (None, "x")}, headers=agentos.alice
    )
    assert response.status_code == 415 and "JSON" in response.json()["detail"]
