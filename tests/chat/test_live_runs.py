"""A chat run followed from another web worker (a server with an event loop of its own): the
reply so far, then live; a Stop sent to any worker stops it where it runs."""

from __future__ import annotations

import httpx
import pytest

from sessions_app import services
from sessions_app.models import AgentSession, Run

from .sse import cookies_for, parse_frames, read_stream, stream_url

pytestmark = pytest.mark.usefixtures("no_summaries")

STORY = " ".join(f"word{i}" for i in range(40)) + "."


def _pending(user) -> Run:
    session = AgentSession.objects.create(session_id="live-thread", user=user)
    return services.run_create(session=session, input="Tell me", status=Run.Status.PENDING)


def _open_then_leave(base: str, run: Run, user, *, until: str) -> None:
    with (
        httpx.Client(cookies=cookies_for(user), timeout=20) as http,
        http.stream("GET", stream_url(base, run.run_id)) as response,
    ):
        for frame in parse_frames(response.iter_lines()):
            if frame.event == "reply" and until in frame.data:
                return


def test_a_stream_on_another_worker_shows_the_reply_so_far_then_follows_it_live(
    asgi_server, other_asgi_server, alice, app_model
):
    app_model.reply(text=STORY, chunk_delay=0.08)
    run = _pending(alice)
    _open_then_leave(asgi_server, run, alice, until="word5")  # started on the first worker

    frames = read_stream(other_asgi_server, run.run_id, alice)
    replies = [f.data for f in frames if f.event == "reply"]
    assert "word5" in replies[0] and "word39" not in replies[0]  # what was said so far, at once
    assert len(replies) > 1  # then live
    assert [f.event for f in frames][-2:] == ["final", "done"] and "word39." in frames[-2].data
    assert len(app_model.requests) == 1


def test_a_stop_from_another_process_stops_the_run_where_it_runs(asgi_server, alice, app_model):
    """The Stop button's service, called here (another process to the server): its NOTIFY reaches
    the server that drives the run, which ends it keeping what was said."""
    app_model.reply(text=STORY, chunk_delay=0.1)
    run = _pending(alice)
    frames, stopped = [], False
    with (
        httpx.Client(cookies=cookies_for(alice), timeout=20) as http,
        http.stream("GET", stream_url(asgi_server, run.run_id)) as response,
    ):
        for frame in parse_frames(response.iter_lines()):
            frames.append(frame)
            if frame.event == "reply" and "word3" in frame.data and not stopped:
                stopped = services.run_cancel(run=run)
    assert stopped
    assert [f.event for f in frames][-2:] == ["final", "done"] and "Stopped." in frames[-2].data
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED and STORY.startswith(run.content) and run.content != STORY


def test_a_chat_run_starts_when_an_embedder_is_configured_and_pgvector_not_checked_yet(
    asgi_server, alice, app_model, settings, monkeypatch
):
    from agentapp import app_agent
    from agentapp.db import adapter as db_adapter

    settings.AGENT_EMBEDDER = "openai:text-embedding-3-small"
    app_agent.configured_embedder.cache_clear()
    monkeypatch.setattr(db_adapter, "_meaning_available", None)
    app_model.reply(text="Hello.")
    try:
        frames = read_stream(asgi_server, _pending(alice).run_id, alice)
    finally:
        app_agent.configured_embedder.cache_clear()
    assert "Hello." in frames[-2].data and Run.objects.get().status == Run.Status.COMPLETED


def test_a_second_stream_of_a_running_reply_holds_no_pooled_database_connection(
    asgi_server, alice, app_model
):
    import threading
    import time

    from django.db import connection

    app_model.reply(text=STORY, chunk_delay=0.08)  # about 3 s
    run = _pending(alice)
    cookies = cookies_for(alice)
    connection.close()

    def in_use() -> int:
        stats = connection.pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    first_words: list[str] = []

    def first() -> None:
        with (
            httpx.Client(cookies=cookies, timeout=20) as http,
            http.stream("GET", stream_url(asgi_server, run.run_id)) as r,
        ):
            for frame in parse_frames(r.iter_lines()):
                if frame.event == "reply":
                    first_words.append(frame.data)

    reader = threading.Thread(target=first)
    reader.start()
    while not first_words:
        time.sleep(0.05)
    before = in_use()
    second = threading.Thread(target=lambda: read_stream(asgi_server, run.run_id, alice))
    second.start()
    during = []
    for _ in range(5):
        time.sleep(0.3)
        during.append(in_use() - before)
    reader.join(timeout=30)
    second.join(timeout=30)
    assert sum(n <= 0 for n in during) >= 4, during


def test_a_reconnect_shows_each_memory_chip_once(asgi_server, alice, app_model):
    app_model.reply(tool_calls=[("add_memory", {"memory": "Alice likes green tea"})])
    app_model.reply(tool_calls=[("add_memory", {"memory": "Alice lives in Lisbon"})])
    app_model.reply(text=STORY, chunk_delay=0.05)
    run = _pending(alice)
    _open_then_leave(asgi_server, run, alice, until="word1")  # both memories written by then

    frames = read_stream(asgi_server, run.run_id, alice)  # the page reopened, or htmx reconnecting
    last_chips = [f.data for f in frames if f.event == "chip"][-1]
    assert last_chips.count(">remembered: Alice likes green tea<") == 1
    assert last_chips.count(">remembered: Alice lives in Lisbon<") == 1


def test_sending_a_message_starts_the_run_even_if_no_stream_ever_opens(asgi_server, alice, app_model):
    """The page closed right after sending (before its stream connected): the reply still comes."""
    import re
    import time

    from django.urls import reverse

    app_model.reply(text="Here all the same.")
    AgentSession.objects.create(session_id="sent-thread", user=alice)
    with httpx.Client(base_url=asgi_server, cookies=cookies_for(alice), timeout=20) as http:
        page = http.get(reverse("sessions:detail", args=["sent-thread"])).text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        sent = http.post(
            reverse("sessions:send", args=["sent-thread"]),
            data={"message": "Are you there?"},
            headers={"X-CSRFToken": token, "HX-Request": "true"},
        )
    assert sent.status_code == 200 and "sse-connect" in sent.text  # the placeholder, never opened here
    deadline = time.monotonic() + 20
    while (
        Run.objects.get().status in (Run.Status.PENDING, Run.Status.RUNNING) and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    run = Run.objects.get()
    assert run.status == Run.Status.COMPLETED and run.content == "Here all the same."


def test_a_new_chats_first_message_starts_its_run_on_its_post(asgi_server, alice, app_model):
    """Was: the first message of a new chat waited for the page's stream to connect to start."""
    import re
    import time

    from django.urls import reverse

    app_model.reply(text="Started without a stream.")
    with httpx.Client(base_url=asgi_server, cookies=cookies_for(alice), timeout=20) as http:
        home = http.get("/").text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', home).group(1)
        sent = http.post(
            reverse("sessions:new"),
            data={"message": "Hello, new chat"},
            headers={"X-CSRFToken": token, "HX-Request": "true"},
        )
        assert sent.status_code == 200 and sent.headers["HX-Redirect"].startswith("/chats/")
        deadline = time.monotonic() + 20
        while Run.objects.get().status != Run.Status.COMPLETED and time.monotonic() < deadline:
            time.sleep(0.05)
        run = Run.objects.get()
        assert run.content == "Started without a stream."  # no stream was ever opened
        page = http.get(sent.headers["HX-Redirect"]).text  # opened after the answer: shows it
    assert "Started without a stream." in page and "sse-connect" not in page
