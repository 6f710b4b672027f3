"""Following a run over the API (`GET /api/runs/{run_id}/events`): replay, live, resume with
Last-Event-ID on the same or another web worker, a run that outlives its client, ownership."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from apikeys.services import apikey_create
from sessions_app.models import Run
from tests.chat.sse import Frame, parse_frames
from tests.fake_openai import Reply

STORY = " ".join(f"word{i}" for i in range(40)) + "."


@pytest.fixture
def alice_token(alice) -> str:
    return apikey_create(user=alice, name="events")[1]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _start_and_drop(base: str, token: str, *, after_content: int) -> list[Frame]:
    """POST a streamed run, read until `after_content` RunContent events arrived, then hang up."""
    frames: list[Frame] = []
    with (
        httpx.Client(base_url=base, timeout=20) as http,
        http.stream(
            "POST",
            "/api/runs",
            json={"message": "Tell me", "session_id": "s-1", "stream": True},
            headers=_auth(token),
        ) as response,
    ):
        assert response.status_code == 200
        for frame in parse_frames(response.iter_lines()):
            frames.append(frame)
            if sum(f.event == "RunContent" for f in frames) == after_content:
                break
    return frames


def _follow(base: str, token: str, run_id: str, last_event_id: str | None = None) -> list[Frame]:
    headers = _auth(token) | ({"Last-Event-ID": last_event_id} if last_event_id is not None else {})
    with (
        httpx.Client(base_url=base, timeout=30) as http,
        http.stream("GET", f"/api/runs/{run_id}/events", headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(parse_frames(response.iter_lines()))


def _text(frames: list[Frame]) -> str:
    return "".join(json.loads(f.data)["content"] for f in frames if f.event == "RunContent")


def _wait_finished(run_id: str) -> Run:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run = Run.objects.get(run_id=run_id)
        if run.is_finished:
            return run
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def _check_resumed(first: list[Frame], rest: list[Frame]) -> None:
    """Every id once and in order across both connections, and the text whole."""
    ids = [int(f.id) for f in first + rest if f.id is not None]
    assert ids == list(range(len(ids)))
    assert rest[-1].event == "done" and rest[-2].event == "RunCompleted"
    assert _text(first) + _text(rest) == STORY


def test_a_run_whose_client_hangs_up_goes_on_to_the_end(asgi_server, app_model, alice_token):
    app_model.reply(text=STORY, chunk_delay=0.03)
    first = _start_and_drop(asgi_server, alice_token, after_content=2)
    run = _wait_finished(json.loads(first[0].data)["run_id"])
    assert run.status == Run.Status.COMPLETED and run.content == STORY


def test_resuming_with_last_event_id_gets_the_rest_without_gaps_or_duplicates(
    asgi_server, app_model, alice_token
):
    app_model.reply(text=STORY, chunk_delay=0.05)
    first = _start_and_drop(asgi_server, alice_token, after_content=3)
    run_id = json.loads(first[0].data)["run_id"]
    rest = _follow(asgi_server, alice_token, run_id, last_event_id=first[-1].id)
    _check_resumed(first, rest)
    assert len(app_model.requests) == 1


def test_resuming_on_another_web_worker_mid_reply_gets_the_rest_live(
    asgi_server, other_asgi_server, app_model, alice_token
):
    app_model.reply(text=STORY, chunk_delay=0.08)  # about 3 s: the rest arrives live on the other worker
    first = _start_and_drop(asgi_server, alice_token, after_content=2)
    run_id = json.loads(first[0].data)["run_id"]
    rest = _follow(other_asgi_server, alice_token, run_id, last_event_id=first[-1].id)
    _check_resumed(first, rest)
    assert sum(f.event == "RunContent" for f in rest) > 1  # followed live, not in one piece at the end


def test_following_a_finished_run_replays_every_event_then_done(asgi_server, app_model, alice_token):
    app_model.reply(text=STORY, chunk_delay=0.01)
    first = _start_and_drop(asgi_server, alice_token, after_content=10_000)  # read to the end
    run_id = json.loads(first[0].data)["run_id"]
    again = _follow(asgi_server, alice_token, run_id)
    assert [(f.id, f.event, json.loads(f.data)) for f in again] == [
        (f.id, f.event, json.loads(f.data)) for f in first
    ]
    assert _text(again) == STORY


def test_resuming_after_the_last_event_gets_only_done(asgi_server, app_model, alice_token):
    app_model.reply(text="Short.")
    first = _start_and_drop(asgi_server, alice_token, after_content=10_000)
    run_id = json.loads(first[0].data)["run_id"]
    last = [f for f in first if f.id is not None][-1]
    assert [f.event for f in _follow(asgi_server, alice_token, run_id, last_event_id=last.id)] == ["done"]


@pytest.mark.parametrize(
    "value",
    ["x", "", " ", "-1", "1.5", "\u00b9\u00b2\u00b3", "9" * 19, "9" * 4301],
    ids=["x", "empty", "space", "negative", "decimal", "superscript", "19 digits", "4301 digits"],
)
def test_a_last_event_id_that_is_not_a_number_is_refused_with_a_message(client, alice_token, alice, value):
    """Was: an empty header counted as none (Schemathesis: a value the schema refuses, accepted); and
    superscript digits or 4,301 digits passed `isdigit()`, then `int()` failed: a 500."""
    run = Run.objects.create(session=_session(alice), user=alice, input="hi", status=Run.Status.COMPLETED)
    response = client.get(
        f"/api/runs/{run.run_id}/events", headers={**_auth(alice_token), "Last-Event-ID": value}
    )
    assert response.status_code == 422 and "Last-Event-ID" in response.json()["message"]


def test_only_the_runs_owner_can_follow_it(client, alice, bob, alice_token):
    run = Run.objects.create(session=_session(alice), user=alice, input="hi", status=Run.Status.COMPLETED)
    bob_token = apikey_create(user=bob, name="b")[1]
    assert client.get(f"/api/runs/{run.run_id}/events", headers=_auth(bob_token)).status_code == 404
    assert client.get(f"/api/runs/{run.run_id}/events").status_code == 401


def _session(user):
    from sessions_app.models import AgentSession

    return AgentSession.objects.create(session_id=f"s-{user.username}", user=user)


@pytest.mark.parametrize("stream", [False, True])
def test_a_run_starts_when_an_embedder_is_configured_and_pgvector_not_checked_yet(
    asgi_server, app_model, alice_token, settings, monkeypatch, stream
):
    """The first run of a process looks up whether pgvector is there: that lookup must not run on
    the event loop (it was a 500 with any embedder configured)."""
    from agentapp import app_agent
    from agentapp.db import adapter as db_adapter

    settings.AGENT_EMBEDDER = "openai:text-embedding-3-small"
    app_agent.configured_embedder.cache_clear()
    monkeypatch.setattr(db_adapter, "_meaning_available", None)
    app_model.responder = lambda request: Reply(text="Hello.")
    try:
        with httpx.Client(base_url=asgi_server, timeout=20) as http:
            response = http.post(
                "/api/runs",
                json={"message": "Hi", "session_id": "s-emb", "stream": stream},
                headers=_auth(alice_token),
            )
    finally:
        app_agent.configured_embedder.cache_clear()
    assert response.status_code == 200, response.text


def test_following_a_run_stopped_before_it_started_gives_its_ending(asgi_server, alice, alice_token):
    from sessions_app import services

    run = services.run_create(session=_session(alice), input="hi", status=Run.Status.PENDING)
    services.run_cancel(run=run)
    frames = _follow(asgi_server, alice_token, run.run_id)
    assert [f.event for f in frames] == ["RunCancelled", "done"]
    assert json.loads(frames[0].data)["output"]["status"] == "cancelled"


def test_following_a_run_that_stored_no_frames_sends_its_ending_once(asgi_server, alice, alice_token):
    # A run that was not streamed stores no frames: its ending is told from its row, under one id.
    from sessions_app import services

    run = services.run_create(session=_session(alice), input="hi", status=Run.Status.PENDING)
    services.run_cancel(run=run)
    [ending, done] = _follow(asgi_server, alice_token, run.run_id)
    assert (ending.event, done.event) == ("RunCancelled", "done")
    assert [f.event for f in _follow(asgi_server, alice_token, run.run_id, last_event_id=ending.id)] == [
        "done"
    ]
    again = _follow(asgi_server, alice_token, run.run_id)
    assert [(f.id, f.event) for f in again] == [(ending.id, "RunCancelled"), (None, "done")]
