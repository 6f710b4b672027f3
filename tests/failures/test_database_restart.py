"""The database restarts (stops, and is back a few seconds later) in the middle of a run: nothing is lost.

The model goes on streaming to the person while the database is away; the reply and the run's
timeline are held and written once it answers again (AGENT_DB_RETRY_SECONDS, 30 s); the pool
hands out live connections within a second of its return. Only a longer outage ends the run as
`error`, with its text kept. The server stopped is the test run's own embedded one.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from django.db import connection

from apikeys.services import apikey_create
from sessions_app import services
from sessions_app.models import AgentSession, Run, RunEvent
from tests.chat.sse import cookies_for, parse_frames, stream_url

STORY = " ".join(f"word{n}" for n in range(30))


def _stored(run_id: str) -> Run:
    return Run.objects.get(run_id=run_id)


def test_a_run_whose_reply_arrives_while_the_database_is_away_stores_it_when_it_is_back(
    outage, make_agent, fake_openai
):
    fake_openai.reply(text="Lisbon in May is lovely.", delay=2.0)
    outage.during(after=0.5, lasting=3.0)  # away from 0.5 s to 3.5 s: the reply comes at 2 s

    output = make_agent().run("Lisbon in May?", user_id="sarah", session_id="trip")

    assert output.status == "completed" and output.content == "Lisbon in May is lovely."
    run = _stored(output.run_id)
    assert run.status == Run.Status.COMPLETED and run.content == "Lisbon in May is lovely."
    assert run.ended_at is not None and RunEvent.objects.filter(run=run, kind="model_request").exists()
    assert outage.started_at is not None and outage.stopped_at is not None


def test_a_streamed_run_goes_on_streaming_while_the_database_is_away(outage, make_agent, fake_openai):
    fake_openai.reply(text=STORY, chunk_delay=0.1)  # about three seconds of words
    outage.during(after=0.6, lasting=1.5)

    seen: list[float] = []
    for event in make_agent().run(
        "Tell me a story", user_id="sarah", session_id="story", stream=True, stream_events=True
    ):
        if type(event).__name__ == "RunContent":
            seen.append(time.monotonic())
        last = event

    assert type(last).__name__ == "RunCompleted" and last.content == STORY
    assert any(outage.stopped_at < t < outage.started_at for t in seen)  # words kept coming meanwhile
    assert _stored(last.output.run_id).content == STORY


def test_the_chat_stream_goes_on_and_ends_with_the_stored_reply(outage, asgi_server, alice, app_model):
    app_model.reply(text=STORY, chunk_delay=0.1)
    session = AgentSession.objects.create(session_id="chat", user=alice)
    run = services.run_create(session=session, input="Tell me a story", status=Run.Status.PENDING)
    cookies = cookies_for(alice)
    outage.during(after=0.8, lasting=1.5)

    frames, seen = [], []
    with (
        httpx.Client(cookies=cookies, timeout=60) as http,
        http.stream("GET", stream_url(asgi_server, run.run_id)) as response,
    ):
        for frame in parse_frames(response.iter_lines()):
            frames.append(frame)
            if frame.event == "reply":
                seen.append(time.monotonic())

    assert [f.event for f in frames][-2:] == ["final", "done"]
    assert any(outage.stopped_at < t < outage.started_at for t in seen)
    assert "word29" in frames[-2].data  # the final frame: the stored, rendered reply
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED and run.content == STORY


@pytest.mark.parametrize("stream", [False, True])
def test_an_api_run_survives_a_database_restart(outage, asgi_server, alice, app_model, stream):
    app_model.reply(text="Lisbon in May is lovely.", delay=2.0)
    token = apikey_create(user=alice, name="restart")[1]
    if not connection.in_atomic_block:
        connection.close()
    outage.during(after=0.5, lasting=3.0)

    with httpx.Client(base_url=asgi_server, timeout=60) as http:
        response = http.post(
            "/api/runs",
            json={"message": "Lisbon in May?", "session_id": "trip", "stream": stream},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert response.status_code == 200, response.text
    if stream:
        frames = list(parse_frames(iter(response.text.splitlines())))
        assert [f.event for f in frames][-2:] == ["RunCompleted", "done"]
        run_id = json.loads(frames[-1].data)["run_id"]
    else:
        run_id = response.json()["run_id"]
        assert response.json()["status"] == "completed"
    assert _stored(run_id).content == "Lisbon in May is lovely."


def test_a_longer_outage_ends_the_run_as_error_with_its_reply_kept(outage, make_agent, fake_openai, settings):
    settings.AGENT_DB_RETRY_SECONDS = 3.0
    options = connection.settings_dict["OPTIONS"]
    pool = options["pool"]
    connection.close()
    connection.close_pool()
    options["pool"] = {**pool, "timeout": 0.5}  # each wait for a connection gives up sooner
    fake_openai.reply(text="Lisbon in May is lovely.", delay=1.0)
    outage.during(after=0.7, lasting=4.5)  # longer than the reply's own wait, shorter than both waits
    try:
        output = make_agent().run("Lisbon in May?", user_id="sarah", session_id="trip")
    finally:
        outage.wait()
        connection.close()
        connection.close_pool()
        options["pool"] = pool

    assert output.status == "error" and "database" in output.error
    run = _stored(output.run_id)
    assert run.status == Run.Status.ERROR and "could not be stored" in run.error
    assert run.content == "Lisbon in May is lovely."  # what the model said is kept
    assert run.messages.get(role="user").content == "Lisbon in May?"
