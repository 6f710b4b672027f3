"""Honest error text: a timeout says how long the person waited, retries included, and offers
Regenerate; a cut stream says the reply was cut off and keeps what arrived; both recorded alike."""

from __future__ import annotations

import pytest

from agentapp.agent.run.failures import waited
from sessions_app.models import Run, RunEvent

from .sse import read_stream
from .test_stream import _pending

pytestmark = [pytest.mark.usefixtures("no_summaries")]


def _final(frames) -> str:
    assert [f.event for f in frames][-2:] == ["final", "done"]
    return frames[-2].data


def test_a_timeout_says_how_long_the_person_waited_retries_included_and_offers_regenerate(
    asgi_server, alice, app_model, settings
):
    settings.AGENT_MODEL_TIMEOUT = 0.4
    for _ in range(3):  # a retry, were one made, would be as slow
        app_model.reply(text="too late", delay=1.5)
    from agentapp import app_agent

    app_agent.configured_model.cache_clear()
    try:
        run = _pending(alice, "Anyone there?")
        final = _final(read_stream(asgi_server, run.run_id, alice))
    finally:
        app_agent.configured_model.cache_clear()
    run.refresh_from_db()
    assert run.status == Run.Status.ERROR and "you waited" in run.error and "retries included" in run.error
    seconds = float(run.error.split("you waited ")[1].split(" s")[0])
    assert seconds >= 0.4
    assert len(app_model.requests) == 1  # the timeout is a deadline, retries included: none was left
    assert run.error in final.replace("&#x27;", "'") and "Regenerate" in final
    assert f'hx-post="/chat/runs/{run.run_id}/regenerate/"' in final
    event = RunEvent.objects.get(run=run, kind="error")
    assert event.payload["kind"] == "timeout" and event.payload["waited_ms"] >= 400
    assert event.payload["received_chars"] == 0


def test_a_cut_stream_says_the_reply_was_cut_off_and_keeps_the_text_received(asgi_server, alice, app_model):
    app_model.reply(text="The first part of an answer that never ends", cut_after=3)
    run = _pending(alice, "Go on")
    final = _final(read_stream(asgi_server, run.run_id, alice))
    run.refresh_from_db()
    assert run.status == Run.Status.ERROR and run.content and run.error.startswith("The reply was cut off")
    assert "the text above is what was received" in run.error
    assert run.content in final and "No reply" not in final and "The reply was cut off" in final
    event = RunEvent.objects.get(run=run, kind="error")
    assert event.payload["kind"] == "stream" and event.payload["received_chars"] == len(run.content)
    assert set(event.payload) == {"message", "kind", "status_code", "detail", "waited_ms", "received_chars"}


def test_a_wait_reads_as_a_person_says_it():
    assert [waited(s) for s in (0.94, 14.2, 125, 120)] == ["0.9 s", "14 s", "2 min 5 s", "2 min"]
