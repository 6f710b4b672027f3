"""The SSE view under uvicorn: frames, `done`, replay without a model call, Stop, disconnects, failures."""

from __future__ import annotations

import time

import httpx
import pytest

from memory_app.models import Memory
from sessions_app import services
from sessions_app.models import AgentSession, Run

from .sse import cookies_for, parse_frames, read_stream, read_stream_stopping, stream_url

pytestmark = [pytest.mark.usefixtures("app_model", "no_summaries"), pytest.mark.server_paths]


STORY = "Once upon a time there was a **very** patient agent who streamed every single word slowly."


def _pending(user, text: str = "Tell me a story", session_id: str = "alice-thread") -> Run:
    session, _ = AgentSession.objects.get_or_create(session_id=session_id, defaults={"user": user})
    return services.run_create(session=session, input=text, status=Run.Status.PENDING)


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_run_streams_the_reply_rendered_so_far_then_the_final_reply_then_done(
    asgi_server, alice, app_model
):
    app_model.reply(text="Hello <b>there</b>, this is **bold** and `code`.", chunk_delay=0.15)
    run = _pending(alice, "Hi <you>")
    frames = read_stream(asgi_server, run.run_id, alice)

    events = [f.event for f in frames]
    assert events[-2:] == ["final", "done"]
    replies = [f.data for f in frames if f.event == "reply"]
    assert len(replies) > 1  # streamed in pieces, each the whole reply so far
    assert "Hello" in replies[0] and "bold" not in replies[0]
    assert "<strong>bold</strong>" in replies[-1] and "<code>code</code>" in replies[-1]
    assert all("&lt;b&gt;there" in r for r in replies if "there" in r) and not any(
        "<b>" in r for r in replies
    )
    final = frames[-2].data
    assert "<strong>bold</strong>" in final and "&lt;b&gt;there&lt;/b&gt;" in final and "<b>" not in final
    assert f'href="/runs/{run.run_id}/"' in final
    assert 'id="memory-panel"' in final and 'hx-swap-oob="true"' in final
    run.refresh_from_db()
    assert run.status == "completed" and run.content == "Hello <b>there</b>, this is **bold** and `code`."
    assert len(app_model.requests) == 1 and app_model.requests[0].body["stream"] is True


def test_a_long_reply_costs_a_bounded_number_of_renders(asgi_server, alice, app_model):
    words = [f"w{i} " for i in range(60)]
    app_model.reply(text="".join(words), chunk_delay=0.01)  # 60 pieces in about 0.6 s
    run = _pending(alice)
    frames = read_stream(asgi_server, run.run_id, alice)
    replies = [f.data for f in frames if f.event == "reply"]
    assert 1 <= len(replies) < 30  # coalesced: not one render per piece
    assert "w59" in frames[-2].data


def test_a_second_connection_to_a_finished_run_replays_it_without_a_model_call(asgi_server, alice, app_model):
    app_model.reply(text="The answer is 42.")
    run = _pending(alice)
    read_stream(asgi_server, run.run_id, alice)
    assert len(app_model.requests) == 1

    again = read_stream(asgi_server, run.run_id, alice)
    assert [f.event for f in again] == ["final", "done"]
    assert "The answer is 42." in again[0].data
    assert len(app_model.requests) == 1


def test_two_connections_at_once_make_one_model_call(asgi_server, alice, app_model):
    import threading

    app_model.reply(text="Only once, slowly.", chunk_delay=0.1)
    run = _pending(alice)
    results: list[list] = []
    threads = [
        threading.Thread(target=lambda: results.append(read_stream(asgi_server, run.run_id, alice)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(results) == 2 and len(app_model.requests) == 1
    assert all("Only once, slowly." in frames[-2].data for frames in results)


def test_the_first_reply_gives_the_session_a_title_from_its_first_words(asgi_server, alice, app_model):
    app_model.reply(text="Sure.")
    run = _pending(alice, "Help me plan a week of vegetarian dinners please")
    frames = read_stream(asgi_server, run.run_id, alice)
    session = AgentSession.objects.get()
    assert session.title == "Help me plan a week of…"
    assert 'id="session-alice-thread"' in frames[-2].data  # the sidebar entry, swapped out of band


def test_memories_the_model_writes_show_as_chips_and_refresh_the_panel(asgi_server, alice, app_model):
    app_model.reply(tool_calls=[("add_memory", {"memory": "Alice likes green tea", "topics": ["food"]})])
    app_model.reply(text="I'll remember that.")
    run = _pending(alice, "I like green tea")
    frames = read_stream(asgi_server, run.run_id, alice)
    chips = [f.data for f in frames if f.event == "chip"]
    assert chips and "remembered: Alice likes green tea" in chips[0]
    final = frames[-2].data
    assert "remembered: Alice likes green tea" in final
    panel = final[final.index('id="memory-panel"') :]
    assert "Alice likes green tea" in panel
    assert Memory.objects.filter(user=alice, text="Alice likes green tea").exists()


def test_a_failed_model_call_ends_with_the_reason_and_a_regenerate_button(asgi_server, alice, app_model):
    app_model.reply(status=400, error="The model refused the request")
    run = _pending(alice, "Will it rain?")
    frames = read_stream(asgi_server, run.run_id, alice)
    assert [f.event for f in frames][-2:] == ["final", "done"]
    final = frames[-2].data
    assert "The model refused the request" in final
    assert f'hx-post="/chat/runs/{run.run_id}/regenerate/"' in final
    run.refresh_from_db()
    assert run.status == "error" and run.messages.filter(role="user", content="Will it rain?").exists()


def test_a_retry_is_said_in_the_chat_until_the_reply_begins(asgi_server, alice, app_model):
    app_model.reply(status=503, error="overloaded")
    app_model.reply(text="Back again, sorry for the wait.")
    run = _pending(alice, "Are you there?")
    frames = read_stream(asgi_server, run.run_id, alice)

    events = [f.event for f in frames]
    assert events[-2:] == ["final", "done"]
    notices = [f for f in frames if f.event == "notice"]
    assert notices and "trying again" in notices[0].data and "2 of 3" in notices[0].data
    assert "HTTP 503" not in notices[0].data  # the server's words are for the run page
    assert events.index("notice") < events.index("reply")
    assert [n.data for n in notices][1:] == [""]  # cleared when the reply begins
    assert "Back again" in frames[-2].data and len(app_model.requests) == 2


def test_stop_ends_the_run_and_keeps_what_was_said(asgi_server, alice, app_model):
    app_model.reply(text=STORY, chunk_delay=0.15)
    run = _pending(alice)
    frames = read_stream_stopping(asgi_server, run.run_id, alice, after_replies=3)
    assert [f.event for f in frames][-2:] == ["final", "done"]
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert run.content and STORY.startswith(run.content) and run.content != STORY
    assert run.content.split()[0] in frames[-2].data and "Stopped." in frames[-2].data


def test_closing_the_connection_leaves_the_run_going_to_the_end(asgi_server, alice, app_model):
    app_model.reply(text=STORY, chunk_delay=0.05)
    run = _pending(alice)
    with (
        httpx.Client(cookies=cookies_for(alice), timeout=20) as http,
        http.stream("GET", stream_url(asgi_server, run.run_id)) as response,
    ):
        for frame in parse_frames(response.iter_lines()):
            if frame.event == "reply":
                break
    _wait_for(lambda: Run.objects.get(pk=run.pk).status != "running")
    run.refresh_from_db()
    assert run.status == "completed" and run.content == STORY


def test_a_connection_opened_mid_reply_shows_the_reply_so_far_then_follows_it_to_the_end(
    asgi_server, alice, app_model
):
    app_model.reply(text=STORY, chunk_delay=0.1)
    run = _pending(alice)
    with (
        httpx.Client(cookies=cookies_for(alice), timeout=20) as http,
        http.stream("GET", stream_url(asgi_server, run.run_id)) as response,
    ):
        for frame in parse_frames(response.iter_lines()):
            if frame.event == "reply" and "patient" in frame.data:
                break
    frames = read_stream(asgi_server, run.run_id, alice)  # the tab reopened
    replies = [f.data for f in frames if f.event == "reply"]
    assert replies and replies[0].startswith("<p>Once upon a time there was a <strong>very</strong> patient")
    assert "slowly." in frames[-2].data and [f.event for f in frames][-2:] == ["final", "done"]
    assert len(app_model.requests) == 1


def test_a_run_stopped_before_it_started_is_replayed_without_a_model_call(asgi_server, alice, app_model):
    run = _pending(alice)
    services.run_cancel(run=run)
    frames = read_stream(asgi_server, run.run_id, alice)
    assert [f.event for f in frames] == ["final", "done"]
    assert "Stopped before the agent said anything." in frames[0].data
    assert app_model.requests == []


def test_another_user_cannot_stream_someone_elses_run(asgi_server, alice, bob, app_model):
    run = _pending(alice)
    with httpx.Client(cookies=cookies_for(bob), timeout=10) as http:
        assert http.get(stream_url(asgi_server, run.run_id)).status_code == 404
    run.refresh_from_db()
    assert run.status == "pending" and app_model.requests == []


def test_a_streaming_reply_holds_no_pooled_database_connection(asgi_server, alice, app_model):
    """The stream gives its connection back while the model talks, and after each look for a Stop."""
    import threading

    from django.db import connection

    app_model.reply(text=" ".join(f"word{i}" for i in range(30)), chunk_delay=0.08)  # about 2.4 s
    run = _pending(alice)
    cookies = cookies_for(alice)  # here: a session looked up in the reader's thread would hold a connection
    connection.close()  # the test's own connection back in the pool: what is left in use is the server's

    def read() -> None:
        with httpx.Client(cookies=cookies, timeout=20) as http:
            http.get(stream_url(asgi_server, run.run_id))

    def in_use() -> int:
        stats = connection.pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    before = in_use()  # connections other tests' threads left checked out, if any
    reader = threading.Thread(target=read)
    reader.start()
    _wait_for(lambda: Run.objects.get(pk=run.pk).status == Run.Status.RUNNING)
    connection.close()
    during = []
    for _ in range(5):
        time.sleep(0.3)  # several looks for a Stop (every 0.4 s) happen meanwhile
        during.append(in_use() - before)
    reader.join(timeout=30)

    assert sum(n == 0 for n in during) >= 4, during  # a poll may be caught in its millisecond
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED


def test_a_lone_surrogate_in_the_reply_is_shown_as_a_replacement_character_and_the_stream_ends(
    asgi_server, alice, app_model
):
    """Was: the frame could not be encoded (UnicodeEncodeError), so the person saw the reply cut."""
    app_model.reply(text="Half an emoji \ud83d and the rest of the sentence.", chunk_delay=0.05)
    run = _pending(alice, "Say something odd")

    frames = read_stream(asgi_server, run.run_id, alice)

    assert [f.event for f in frames][-2:] == ["final", "done"]
    assert "\ufffd and the rest of the sentence." in frames[-2].data
    run.refresh_from_db()
    assert run.status == "completed"
