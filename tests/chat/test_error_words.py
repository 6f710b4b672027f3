"""What a failed reply tells the person in the chat: plain words, no model server address or other
internals; staff, the run page and the API keep the full error (they are for operators and developers)."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from sessions_app.models import Run

from .sse import read_stream
from .test_stream import _pending

pytestmark = [pytest.mark.usefixtures("no_summaries")]

REACH = "The model could not be reached. Try again in a moment."


@pytest.fixture
def model_down(app_model, settings):
    """The app's model at a loopback address where nothing listens: the real SDK fails to connect."""
    from agentapp import app_agent

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{port}/v1"
    app_agent.configured_model.cache_clear()
    yield settings.OPENAI_BASE_URL
    app_agent.configured_model.cache_clear()


def _page(user, session_id: str = "alice-thread") -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/chats/{session_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_model_that_cannot_be_reached_says_so_in_plain_words_to_the_person_and_in_full_to_staff(
    asgi_server, alice, staff, model_down
):
    run = _pending(alice, "Anyone there?")
    frames = read_stream(asgi_server, run.run_id, alice)
    run.refresh_from_db()
    assert run.status == Run.Status.ERROR and model_down in run.error  # stored in full, for the run page

    live = frames[-2].data
    assert frames[-2].event == "final" and REACH in live
    assert "127.0.0.1" not in live and "http://" not in live.replace("http://www.w3.org", "")

    page = _page(alice)
    assert REACH in page and model_down not in page and "Could not connect" not in page

    staff_page = _page(staff)
    assert model_down in staff_page and "Could not connect to the model server" in staff_page

    run_page = Client()
    run_page.force_login(alice)
    assert model_down in run_page.get(f"/runs/{run.run_id}/").content.decode()


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        ("Could not connect to the model server at http://10.0.0.5:8000/v1 (refused)", REACH),
        ("Model rate limit reached (HTTP 429): slow down", "The model is busy"),
        ("Model server error (HTTP 502): upstream at 10.0.0.5 failed", "The model had a problem"),
        ("The model server sent a response that could not be read", "The model had a problem"),
        ("The model server rejected the API key (HTTP 401): bad key", "The model could not answer"),
        ("Internal error: KeyError: 'x'", "Something went wrong"),
        (
            "The model server rejected the request (HTTP 400): Too long",
            "The model refused the request: Too long",
        ),
        ("The reply was cut off: the text above is what was received.", "The reply was cut off"),
    ],
)
def test_each_kind_of_failure_has_person_facing_words_without_internals(stored, words):
    from agentapp.agent.run.failures import person_error

    shown = person_error(stored)
    assert words in shown
    assert "HTTP" not in shown and "10.0.0.5" not in shown and "Error:" not in shown


def test_a_timeout_keeps_how_long_the_person_waited():
    from agentapp.agent.run.failures import person_error

    stored = "The model timed out: you waited 31 s for a reply, retries included. Regenerate to try again."
    assert "you waited 31 s" in person_error(stored)


def test_a_cut_stream_says_cut_off_once(asgi_server, alice, app_model):
    app_model.reply(text="The first part of an answer that never ends", cut_after=3)
    run = _pending(alice, "Go on")
    read_stream(asgi_server, run.run_id, alice)
    run.refresh_from_db()
    assert run.error == "The reply was cut off: the text above is what was received."
    assert run.error.count("cut off") == 1
