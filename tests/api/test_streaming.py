from __future__ import annotations

import json

import httpx
import pytest

from apikeys.services import apikey_create
from memory_app.models import Memory
from sessions_app.models import Run
from tests.fake_openai import Reply


def _frames(text: str) -> list[tuple[str, dict]]:
    frames = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        frames.append((lines["event"], json.loads(lines["data"])))
    return frames


@pytest.fixture
def alice_token(alice) -> str:
    return apikey_create(user=alice, name="stream")[1]


def test_a_streamed_run_with_a_tool_call_sends_typed_events_then_done(asgi_server, app_model, alice_token):
    app_model.reply(tool_calls=[("add_memory", {"memory": "Alice likes jazz", "topics": ["music"]})])
    app_model.reply(text="Got it, jazz it is.")
    app_model.responder = lambda request: Reply(text="A summary.")  # follow-ups after the run
    with httpx.Client(base_url=asgi_server, timeout=20) as client:
        response = client.post(
            "/api/runs",
            json={"message": "I like jazz", "session_id": "s-jazz", "stream": True},
            headers={"Authorization": f"Bearer {alice_token}"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = _frames(response.text)
    names = [name for name, _ in frames]
    content = names.count("RunContent")
    assert content >= 2  # the reply arrives in pieces
    assert names == [
        "RunStarted",
        "ToolCallStarted",
        "MemoryUpdated",
        "ToolCallCompleted",
        *["RunContent"] * content,
        "RunCompleted",
        "done",
    ]
    data = dict(frames)
    assert data["ToolCallStarted"]["tool_name"] == "add_memory"
    assert data["MemoryUpdated"]["memory"] == "Alice likes jazz"
    text = "".join(d["content"] for name, d in frames if name == "RunContent")
    assert text == "Got it, jazz it is."
    assert data["RunCompleted"]["output"]["status"] == "completed"
    run_id = data["RunStarted"]["run_id"]
    assert data["done"] == {"run_id": run_id}
    assert Run.objects.get(run_id=run_id).status == Run.Status.COMPLETED
    assert Memory.objects.get(user__username="alice").text == "Alice likes jazz"


def test_a_streamed_run_refuses_another_persons_session_before_streaming(
    asgi_server, app_model, alice_token, bob
):
    bob_token = apikey_create(user=bob, name="b")[1]
    app_model.responder = lambda request: Reply(text="hi bob")
    with httpx.Client(base_url=asgi_server, timeout=20) as client:
        client.post(
            "/api/runs",
            json={"message": "mine", "session_id": "bob-thread"},
            headers={"Authorization": f"Bearer {bob_token}"},
        )
        response = client.post(
            "/api/runs",
            json={"message": "hi", "session_id": "bob-thread", "stream": True},
            headers={"Authorization": f"Bearer {alice_token}"},
        )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert set(response.json()) == {"message", "detail"}
