"""The chat pages: the thread, sending, the sidebar (search, rename, delete), older messages, ownership."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memory_app.models import Memory
from sessions_app.models import AgentSession, Run, SessionSummary
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _run(session: AgentSession, text: str, *, status: str = "completed", content: str = "", **fields) -> Run:
    return factories.run(session, text, status=status, content=content, **fields)


@pytest.fixture
def thread(alice):
    session = AgentSession.objects.create(session_id="alice-thread", user=alice, title="Trip to Lisbon")
    _run(session, "Where should I stay?", content="Try **Alfama**.")
    return session


def test_the_home_page_is_the_chat_with_a_fresh_conversation(client, alice, thread):
    client.force_login(alice)
    body = client.get("/").content.decode()
    assert "Hello, alice" in body
    assert 'action="/chat/new/"' in body
    assert "Trip to Lisbon" in body  # the sidebar


def test_a_session_page_shows_the_thread_with_replies_rendered_as_markdown(client, alice, thread):
    client.force_login(alice)
    response = client.get(reverse("sessions:detail", args=["alice-thread"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Where should I stay?" in body
    assert "Try <strong>Alfama</strong>." in body
    run = thread.runs.get()
    assert f'href="/runs/{run.run_id}/"' in body


def test_model_output_is_sanitised(client, alice, thread):
    _run(
        thread,
        "hi",
        content="<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    )
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=["alice-thread"])).content.decode()
    assert "<script>alert(1)" not in body and "<img" not in body and 'href="javascript' not in body
    assert "&lt;script&gt;" in body


def test_the_first_message_creates_a_session_with_a_pending_run_and_opens_it(client, alice):
    client.force_login(alice)
    response = client.post(reverse("sessions:new"), {"message": "Hello there, agent"})
    session = AgentSession.objects.get(user=alice)
    assert response.status_code == 302 and response.url == f"/chats/{session.session_id}/"
    run = session.runs.get()
    assert run.status == "pending" and run.messages.get().content == "Hello there, agent"
    page = client.get(response.url).content.decode()
    assert f'sse-connect="/chat/runs/{run.run_id}/stream/"' in page
    assert "Hello there…" not in page and "Hello there, agent" in page  # the first words stand in for a title


def test_an_empty_first_message_is_refused_and_leaves_no_empty_chat(client, alice):
    client.force_login(alice)
    response = client.post(reverse("sessions:new"), {"message": "   "})
    assert response.status_code == 422 and b"must not be empty" in response.content
    assert not AgentSession.objects.exists()


def test_sending_returns_the_users_bubble_and_a_placeholder_that_opens_the_stream(client, alice, thread):
    client.force_login(alice)
    response = client.post(
        reverse("sessions:send", args=["alice-thread"]), {"message": "And <b>food</b>?"}, **HTMX
    )
    assert response.status_code == 200
    run = thread.runs.latest("id")
    assert run.status == "pending" and run.input == "And <b>food</b>?"
    body = response.content.decode()
    assert "And &lt;b&gt;food&lt;/b&gt;?" in body
    assert f'sse-connect="/chat/runs/{run.run_id}/stream/"' in body and 'sse-close="done"' in body
    assert f'hx-post="/chat/runs/{run.run_id}/stop/"' in body
    assert "<html" not in body


def test_an_empty_message_is_refused_with_a_clear_reason(client, alice, thread):
    client.force_login(alice)
    response = client.post(reverse("sessions:send", args=["alice-thread"]), {"message": ""}, **HTMX)
    assert response.status_code == 422 and b"must not be empty" in response.content
    assert thread.runs.count() == 1


def test_the_page_renders_the_last_30_messages_and_loads_older_ones_on_scroll(client, alice):
    session = AgentSession.objects.create(session_id="long", user=alice)
    runs = [_run(session, f"question number {i:02d}", content=f"answer {i:02d}") for i in range(40)]
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=["long"])).content.decode()
    assert body.count('class="msg msg-user"') + body.count('class="msg msg-assistant') == 30
    assert "question number 25" in body and "question number 24" not in body
    older_url = f"/chats/long/older/?before={runs[25].pk}"
    assert f'hx-get="{older_url}"' in body and "intersect once" in body

    older = client.get(older_url, **HTMX).content.decode()
    assert (
        "question number 10" in older and "question number 24" in older and "question number 25" not in older
    )
    assert f"before={runs[10].pk}" in older  # still more above
    oldest = client.get(f"/chats/long/older/?before={runs[10].pk}", **HTMX).content.decode()
    assert "question number 00" in oldest and "before=" not in oldest


def test_older_messages_need_a_run_number(client, alice, thread):
    client.force_login(alice)
    assert client.get("/chats/alice-thread/older/?before=x").status_code == 400


def test_an_untitled_chat_opened_after_its_answer_asks_for_its_title(client, alice, thread):
    """Its run may finish before its page opens (the POST starts it): no final frame will ask then."""
    untitled = AgentSession.objects.create(session_id="untitled", user=alice)
    _run(untitled, "Plan a trip", content="Sure.")
    client.force_login(alice)
    page = client.get(reverse("sessions:detail", args=["untitled"])).content.decode()
    entry = page[page.index('id="session-untitled"') :].split("</li>")[0]
    assert 'hx-get="/chats/untitled/item/?tries=1&amp;current=untitled"' in entry
    assert 'hx-trigger="load delay:3s"' in entry
    other = page[page.index('id="session-alice-thread"') :].split("</li>")[0]
    assert "hx-trigger" not in other  # titled, and not the one open


def test_a_failed_reply_shows_its_reason_and_a_regenerate_button(client, alice, thread):
    failed = _run(thread, "Will it rain?", status="error", error="Model server error (HTTP 500): boom")
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=["alice-thread"])).content.decode()
    assert "The model had a problem answering" in body and "HTTP 500" not in body  # in the person's words
    assert f'hx-post="/chat/runs/{failed.run_id}/regenerate/"' in body
    assert "Will it rain?" in body  # the message is never lost


def test_regenerating_a_failed_reply_makes_a_new_version_in_its_place(client, alice, thread):
    first = thread.runs.get()
    failed = _run(thread, "Will it rain?", status="error", error="boom")
    client.force_login(alice)
    response = client.post(reverse("sessions:regenerate", args=[failed.run_id]), **HTMX)
    assert response.status_code == 200
    new = thread.runs.latest("id")
    assert new.pk != failed.pk and new.status == "pending" and new.input == "Will it rain?"
    assert new.parent_id == failed.parent_id == first.pk  # beside the failed one, not after it
    failed.refresh_from_db()
    assert failed.status == "error"
    body = response.content.decode()  # the thread again, showing the new version
    assert f'sse-connect="/chat/runs/{new.run_id}/stream/"' in body
    assert f'id="exchange-{failed.run_id}"' not in body and f'id="exchange-{first.run_id}"' in body
    assert 'class="versions-at" aria-live="polite">2/2<' in body
    assert f'hx-post="/chat/runs/{failed.run_id}/show/"' in body  # the previous-version arrow goes back to it


def test_a_good_answer_can_be_regenerated_too(client, alice, thread):
    client.force_login(alice)
    answer = thread.runs.get()
    response = client.post(reverse("sessions:regenerate", args=[answer.run_id]), **HTMX)
    assert response.status_code == 200
    assert list(thread.runs.order_by("id").values_list("input", "parent_id", "status")) == [
        ("Where should I stay?", None, "completed"),
        ("Where should I stay?", None, "pending"),
    ]


def test_stop_marks_a_pending_or_running_run_cancelled(client, alice, thread):
    run = _run(thread, "Tell me a long story", status="running")
    client.force_login(alice)
    assert client.post(reverse("sessions:stop", args=[run.run_id]), **HTMX).status_code == 204
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_the_sidebar_searches_titles_and_message_text(client, alice, thread):
    other = AgentSession.objects.create(session_id="other", user=alice, title="Groceries")
    _run(other, "Buy oat milk", content="Noted.")
    client.force_login(alice)
    by_title = client.get(reverse("sessions:list"), {"q": "lisbon"}, **HTMX).content.decode()
    assert "Trip to Lisbon" in by_title and "Groceries" not in by_title
    by_text = client.get(reverse("sessions:list"), {"q": "oat milk"}, **HTMX).content.decode()
    assert "Groceries" in by_text and "Trip to Lisbon" not in by_text
    nothing = client.get(reverse("sessions:list"), {"q": "zebra"}, **HTMX).content.decode()
    assert "No chats match" in nothing


def test_the_sidebar_lists_newest_first_and_names_untitled_chats_by_their_first_words(client, alice, thread):
    untitled = AgentSession.objects.create(session_id="untitled", user=alice)
    _run(untitled, "Please help me plan a birthday party for my daughter", content="Sure.")
    client.force_login(alice)
    body = client.get("/").content.decode()
    assert "Please help me plan a birthday…" in body
    assert body.index("Please help me plan") < body.index("Trip to Lisbon")


def test_renaming_in_place_returns_the_form_then_the_renamed_entry(client, alice, thread):
    client.force_login(alice)
    form = client.get(reverse("sessions:rename", args=["alice-thread"]), **HTMX).content.decode()
    assert 'name="title"' in form and 'value="Trip to Lisbon"' in form
    response = client.post(
        reverse("sessions:rename", args=["alice-thread"]), {"title": "  Lisbon   in May "}, **HTMX
    )
    assert response.status_code == 200 and "Lisbon in May" in response.content.decode()
    thread.refresh_from_db()
    assert thread.title == "Lisbon in May"


def test_a_too_long_title_is_refused(client, alice, thread):
    client.force_login(alice)
    response = client.post(reverse("sessions:rename", args=["alice-thread"]), {"title": "x" * 201}, **HTMX)
    assert response.status_code == 422


def test_deleting_hides_the_session_until_the_sweep_and_leaves_the_memories(client, alice, thread):
    Memory.objects.create(user=alice, text="Alice likes tea", normalized_text="alice likes tea")
    client.force_login(alice)
    response = client.post(
        reverse("sessions:delete", args=["alice-thread"]), HTTP_HX_CURRENT_URL="http://testserver/", **HTMX
    )
    assert response.status_code == 200 and b"Chat deleted" in response.content  # with Undo
    assert AgentSession.objects.get().deleted_at is not None and Run.objects.count() == 1
    assert b'id="session-alice-thread"' not in client.get("/").content
    assert Memory.objects.filter(user=alice).count() == 1


def test_deleting_the_open_session_sends_the_browser_home(client, alice, thread):
    client.force_login(alice)
    response = client.post(
        reverse("sessions:delete", args=["alice-thread"]),
        HTTP_HX_CURRENT_URL="http://testserver/chats/alice-thread/",
        **HTMX,
    )
    assert response["HX-Redirect"] == "/?deleted=alice-thread"


def test_the_memory_panel_lists_the_persons_memories_and_marks_those_used_last(client, alice, bob, thread):
    used = Memory.objects.create(user=alice, text="Alice likes tea", normalized_text="alice likes tea")
    Memory.objects.create(user=alice, text="Alice lives in Porto", normalized_text="alice lives in porto")
    Memory.objects.create(user=bob, text="Bob likes coffee", normalized_text="bob likes coffee")
    Run.objects.filter(session=thread).update(memories_used=[used.memory_id])
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=["alice-thread"])).content.decode()
    assert "Alice lives in Porto" in body and "Bob likes coffee" not in body
    assert f'class="memory used" data-memory-id="{used.memory_id}"' in body


def test_the_summary_shows_collapsed_at_the_top_of_the_thread(client, alice, thread):
    client.force_login(alice)
    assert b"thread-summary" not in client.get("/chats/alice-thread/").content
    SessionSummary.objects.create(session=thread, text="Alice plans a trip to Lisbon.")
    body = client.get("/chats/alice-thread/").content.decode()
    assert '<details class="thread-summary">' in body and "Alice plans a trip to Lisbon." in body


# --- ownership: alice owns, bob is another user, anonymous is sent to sign in ---------------
def _routes(thread: AgentSession) -> list[tuple[str, str]]:
    run = thread.runs.get()
    return [
        ("get", "/chats/alice-thread/"),
        ("post", "/chats/alice-thread/messages/"),
        ("get", f"/chats/alice-thread/older/?before={run.pk}"),
        ("get", "/chats/alice-thread/rename/"),
        ("post", "/chats/alice-thread/rename/"),
        ("post", "/chats/alice-thread/delete/"),
        ("post", "/chats/alice-thread/restore/"),
        ("post", f"/chat/runs/{run.run_id}/stop/"),
        ("post", f"/chat/runs/{run.run_id}/regenerate/"),
        ("get", f"/chat/runs/{run.run_id}/edit/"),
        ("post", f"/chat/runs/{run.run_id}/edit/"),
        ("get", f"/chat/runs/{run.run_id}/message/"),
        ("post", f"/chat/runs/{run.run_id}/show/"),
        ("get", f"/chat/runs/{run.run_id}/stream/"),
    ]


def test_another_user_gets_not_found_for_every_chat_route(client, bob, thread):
    client.force_login(bob)
    for method, url in _routes(thread):
        response = getattr(client, method)(
            url, {"message": "hi", "title": "mine"} if method == "post" else None
        )
        assert response.status_code == 404, (method, url)
    thread.refresh_from_db()
    assert thread.title == "Trip to Lisbon" and thread.runs.count() == 1
    assert thread.runs.get().status == "completed"


def test_anonymous_visitors_are_sent_to_sign_in_from_every_chat_route(client, thread):
    for method, url in [*_routes(thread), ("post", "/chat/new/"), ("get", "/chat/sessions/")]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response.url.startswith("/login/"), (method, url)


def test_the_owner_can_open_every_read_route(client, alice, thread):
    client.force_login(alice)
    for method, url in _routes(thread):
        if method == "get" and "/stream/" not in url:
            assert client.get(url).status_code == 200, url


def test_an_untitled_chat_entry_asks_again_for_its_title_a_bounded_number_of_times(client, alice):
    from sessions_app.chat.views import TITLE_POLLS, TITLE_SLOW_POLLS

    AgentSession.objects.create(session_id="fresh", user=alice)
    client.force_login(alice)
    url = reverse("sessions:item", args=["fresh"])

    waiting = client.get(f"{url}?tries=1&current=fresh", **HTMX).content.decode()
    assert f'hx-get="{url}?tries=2&amp;current=fresh"' in waiting and 'hx-trigger="load delay:3s"' in waiting
    assert 'id="thread-title"' not in waiting  # nothing new for the heading yet

    slower = client.get(f"{url}?tries={TITLE_POLLS}", **HTMX).content.decode()
    assert 'hx-trigger="load delay:30s"' in slower and "title pending" in slower  # no worker yet, maybe
    last = client.get(f"{url}?tries={TITLE_POLLS + TITLE_SLOW_POLLS}", **HTMX).content.decode()
    assert 'id="session-fresh"' in last and "hx-trigger" not in last  # gives up: the title waits for a reload

    AgentSession.objects.filter(session_id="fresh").update(title="Weekend in Porto")
    titled = client.get(f"{url}?tries=3&current=fresh", **HTMX).content.decode()
    assert "Weekend in Porto" in titled and "hx-trigger" not in titled and "title pending" not in titled
    assert '<h1 id="thread-title" hx-swap-oob="true">Weekend in Porto</h1>' in titled


# A blank first message on the home page
@pytest.mark.parametrize("message", ["", "   \n  "])
def test_a_blank_first_message_without_htmx_shows_the_home_page_with_the_reason_and_makes_no_chat(
    client, alice, message
):
    client.force_login(alice)
    response = client.post(reverse("sessions:new"), {"message": message})
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="composer"' in body and "message must not be empty" in body
    assert not AgentSession.objects.exists()


def test_a_refused_first_message_is_kept_in_the_box(client, alice):
    client.force_login(alice)
    too_long = "x" * 32_001
    response = client.post(reverse("sessions:new"), {"message": too_long})
    assert response.status_code == 422
    assert too_long in response.content.decode()  # nothing typed is lost
    assert not AgentSession.objects.exists()


def test_a_blank_first_message_over_htmx_answers_the_reason_for_the_inline_error(client, alice):
    client.force_login(alice)
    response = client.post(reverse("sessions:new"), {"message": " "}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and response.content == b"message must not be empty"
    assert not AgentSession.objects.exists()
