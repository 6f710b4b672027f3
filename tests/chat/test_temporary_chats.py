"""Temporary chats: made so on a new chat's first message, listed nowhere (sidebar, search, the
past-sessions tool, Agno's `get_sessions`), found by their id; no memory read or written, no summary,
no title; the page says so; a chat never changes its kind."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from agentapp.db import DjangoDb
from agentapp.errors import InvalidInput
from memory_app import services as memory_services
from memory_app.models import Memory, MemoryChange, MemoryExtraction
from sessions_app import selectors, services
from sessions_app.models import AgentSession, Run, SessionSummary
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MEMORY_TOOLS = {"add_memory", "update_memory", "delete_memory", "clear_memories", "search_memories"}


def _temporary(username: str = "alice", session_id: str = "temp-1") -> AgentSession:
    return services.session_get_or_create_for_run(session_id=session_id, username=username, temporary=True)


def _tool_names(request) -> set[str]:
    return {tool["function"]["name"] for tool in request.body.get("tools") or []}


# --- made on the chat page --------------------------------------------------------------------
def test_the_new_chat_offers_the_toggle_and_an_open_chat_does_not(client, alice):
    ordinary = AgentSession.objects.create(session_id="ordinary", user=alice, title="Trip")
    client.force_login(alice)

    home = client.get("/").content.decode()
    assert 'type="checkbox" name="temporary" id="composer-temporary"' in home
    assert "Temporary chat" in home
    chat = client.get(reverse("sessions:detail", args=[ordinary.session_id])).content.decode()
    assert 'name="temporary"' not in chat
    assert "temporary-banner" not in chat


def test_ticking_temporary_chat_makes_the_new_session_temporary_with_its_pending_run(client, alice, settings):
    settings.AGENT_TEMPORARY_CHAT_DAYS = 7
    client.force_login(alice)

    response = client.post(reverse("sessions:new"), {"message": "A secret plan", "temporary": "on"})

    session = AgentSession.objects.get(user=alice)
    assert session.temporary
    assert response.status_code == 302 and response.url == f"/chats/{session.session_id}/"
    run = session.runs.get()
    assert run.status == "pending" and run.input == "A secret plan"
    page = client.get(response.url).content.decode()
    assert (
        '<p class="temporary-banner" id="temporary-banner" role="note"><strong>Temporary chat:</strong> '
        "not remembered, not in your history, deleted after 7 days.</p>"
    ) in page
    assert f'sse-connect="/chat/runs/{run.run_id}/stream/"' in page  # the page works: it streams the run
    # Not in the sidebar, and its heading asks for no title (it gets none).
    assert f'id="session-{session.session_id}"' not in page
    assert f"/chats/{session.session_id}/item/" not in page


def test_without_the_toggle_the_new_chat_is_an_ordinary_one(client, alice):
    client.force_login(alice)
    client.post(reverse("sessions:new"), {"message": "Hello"}, **HTMX)

    session = AgentSession.objects.get(user=alice)
    assert not session.temporary
    page = client.get(reverse("sessions:detail", args=[session.session_id])).content.decode()
    assert "temporary-banner" not in page and f'id="session-{session.session_id}"' in page


def test_a_refused_first_message_keeps_the_toggle_ticked_and_makes_nothing(client, alice):
    client.force_login(alice)
    response = client.post(reverse("sessions:new"), {"message": "  ", "temporary": "on"})

    assert response.status_code == 422
    assert 'id="composer-temporary" checked' in response.content.decode()
    assert not AgentSession.objects.exists()


def test_the_banner_says_one_day_in_the_singular(client, alice, settings):
    settings.AGENT_TEMPORARY_CHAT_DAYS = 1
    session = _temporary()
    client.force_login(alice)
    page = client.get(reverse("sessions:detail", args=[session.session_id])).content.decode()
    assert "deleted after 1 day.</p>" in page


# --- listed nowhere, found by its id ----------------------------------------------------------
def test_a_temporary_chat_is_not_in_the_sidebar_nor_its_search_but_its_page_works(client, alice, bob):
    ordinary = AgentSession.objects.create(session_id="ordinary", user=alice, title="Lisbon trip")
    factories.run(ordinary, "Where should I stay in Lisbon?", content="Alfama.")
    temporary = _temporary()
    factories.run(temporary, "Lisbon secrets nobody should keep", content="Noted.")
    client.force_login(alice)

    home = client.get("/").content.decode()
    assert 'id="session-ordinary"' in home and 'id="session-temp-1"' not in home
    found = client.get(reverse("sessions:list"), {"q": "Lisbon"}, **HTMX).content.decode()
    assert 'id="session-ordinary"' in found and "temp-1" not in found
    nothing = client.get(reverse("sessions:list"), {"q": "secrets"}, **HTMX).content.decode()
    assert "No chats match" in nothing

    page = client.get(reverse("sessions:detail", args=["temp-1"]))
    assert page.status_code == 200 and "Lisbon secrets nobody should keep" in page.content.decode()
    client.force_login(bob)
    assert client.get(reverse("sessions:detail", args=["temp-1"])).status_code == 404


def test_the_selectors_leave_temporary_chats_out_unless_asked(alice):
    ordinary = AgentSession.objects.create(session_id="ordinary", user=alice)
    temporary = _temporary()

    assert list(selectors.sessions_for_user(user_pk=alice.pk)) == [ordinary]
    assert list(selectors.sessions_for_user(user_pk=alice.pk, temporary=True)) == [temporary]
    assert [s.session_id for s in selectors.sessions_for_sidebar(user_pk=alice.pk)] == ["ordinary"]
    assert selectors.sessions_of_username(username="alice", limit=10) == [ordinary]
    assert selectors.sessions_page(username="alice") == [ordinary]
    assert selectors.sessions_page(username=None) == [ordinary]


def test_agnos_session_verbs_list_no_temporary_chat_but_get_one_by_its_id(alice):
    AgentSession.objects.create(session_id="ordinary", user=alice)
    _temporary()
    db = DjangoDb()

    assert [s.session_id for s in db.get_sessions("alice")] == ["ordinary"]
    assert [s.session_id for s in db.get_sessions()] == ["ordinary"]
    assert [s.session_id for s in db.user_sessions(user_id="alice", limit=10)] == ["ordinary"]
    assert db.get_session("temp-1", "alice") is not None
    assert db.get_session("temp-1", "bob") is None


def test_search_past_sessions_never_finds_a_temporary_chat(make_agent, fake_openai, alice, no_summaries):
    fake_openai.reply(text="Alfama.")
    make_agent("chat").run("Where should I stay in Lisbon?", user_id="alice", session_id="ordinary")
    fake_openai.reply(text="Kept quiet.")
    make_agent("chat").run(
        "My Lisbon surprise party plan", session_id=_temporary().session_id, user_id="alice"
    )
    fake_openai.reply(tool_calls=[("search_past_sessions", {"query": "Lisbon"})])
    fake_openai.reply(text="Found it.")

    make_agent("chat", search_past_sessions=True).run("What about Lisbon?", user_id="alice", session_id="new")

    result = next(m for m in fake_openai.requests[-1].body["messages"] if m["role"] == "tool")["content"]
    assert "Where should I stay in Lisbon?" in result
    assert "surprise party" not in result and "temp-1" not in result


def test_a_temporary_chat_is_offered_no_search_of_past_sessions(make_agent, fake_openai, alice, no_summaries):
    fake_openai.reply(text="Alfama.")
    make_agent("chat").run("Where should I stay in Lisbon?", user_id="alice", session_id="ordinary")
    fake_openai.reply(text="No idea.")

    make_agent("chat", search_past_sessions=True).run(
        "What did I say about Lisbon?", session_id=_temporary().session_id, user_id="alice"
    )

    offered = [tool["function"]["name"] for tool in fake_openai.requests[-1].body.get("tools", [])]
    assert "search_past_sessions" not in offered


# --- the agent neither reads nor writes memories; no summary, no title ---------------------------
@pytest.fixture
def alice_remembered(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        memory_services.memory_create(user_pk=alice.pk, text="Alice is allergic to peanuts", actor="person")
        memory_services.memory_create(user_pk=alice.pk, text="Alice lives in Porto", actor="person")
    return alice


def test_an_ordinary_chat_reads_and_writes_memories_with_these_settings(
    make_agent, fake_openai, alice_remembered, no_summaries
):
    """The control: the same agent and person in an ordinary chat; what the temporary chat must not do."""
    fake_openai.reply(text="Peanut-free it is.")
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Alice is planning a party"})])
    fake_openai.reply(text="Done.")
    agent = make_agent("chat", enable_agentic_memory=True, update_memory_on_run=True)

    agent.run("I am planning a party", user_id="alice", session_id="ordinary")

    first = fake_openai.requests[0]
    assert "Alice is allergic to peanuts" in json.dumps(first.body)
    assert MEMORY_TOOLS & _tool_names(first)
    assert Memory.objects.filter(text="Alice is planning a party").exists()
    assert AgentSession.objects.get(session_id="ordinary").title


def test_a_temporary_chat_neither_reads_nor_writes_memories_and_gets_no_summary_or_title(
    make_agent, fake_openai, alice_remembered, django_capture_on_commit_callbacks
):
    fake_openai.reply(text="A party, nice.")
    agent = make_agent(
        "chat", enable_agentic_memory=True, update_memory_on_run=True, enable_session_summaries=True
    )
    session = _temporary()

    with django_capture_on_commit_callbacks(execute=True):
        output = agent.run("I am planning a party", user_id="alice", session_id=session.session_id)

    assert output.status == "completed" and output.content == "A party, nice."
    assert len(fake_openai.requests) == 1  # no memory manager, no summary, no title model call
    request = fake_openai.requests[0]
    assert "peanuts" not in json.dumps(request.body) and "Porto" not in json.dumps(request.body)
    assert not MEMORY_TOOLS & _tool_names(request)
    assert output.memories_used == [] and Run.objects.get(run_id=output.run_id).memories_used == []
    assert Memory.objects.count() == 2 and MemoryChange.objects.filter(run__isnull=False).count() == 0
    assert not MemoryExtraction.objects.exists()
    session.refresh_from_db()
    assert session.title == "" and not SessionSummary.objects.filter(session=session).exists()


def test_with_workers_a_temporary_chat_sends_no_follow_up_task(
    make_agent, fake_openai, alice, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    fake_openai.reply(text="Hi.")
    fake_openai.reply(text="Hi again.")
    agent = make_agent("chat", update_memory_on_run=True, enable_session_summaries=True)

    with django_capture_on_commit_callbacks(execute=False) as ordinary:
        agent.run("Hello", user_id="alice", session_id="ordinary")
    with django_capture_on_commit_callbacks(execute=False) as temporary:
        agent.run("Hello", user_id="alice", session_id=_temporary().session_id)

    sent = [cb.func.__self__.name for cb in ordinary]
    assert sorted(sent) == ["memory.update_for_run", "sessions.summary_update", "sessions.title_for_session"]
    assert [cb.func.__self__.name for cb in temporary] == []


def test_the_sweep_sends_no_missed_follow_up_for_a_temporary_chat(alice, settings):
    """The sweep resends a lost title, summary or memory update: a temporary chat never had one to lose."""
    from datetime import timedelta

    from django.utils import timezone

    from memory_app import selectors as memory_selectors

    for session in (AgentSession.objects.create(session_id="ordinary", user=alice), _temporary()):
        factories.run(session, "Hello", content="Hi.", ended_at=timezone.now() - timedelta(minutes=10))
    window = {"settled_before": timedelta(minutes=5), "horizon": timedelta(days=1)}

    assert selectors.sessions_missing_title(**window) == ["ordinary"]
    assert selectors.sessions_behind_their_summary(**window) == ["ordinary"]
    missed = memory_selectors.runs_missing_memory_update(**window, lease=timedelta(minutes=4))
    assert missed == [Run.objects.get(session__session_id="ordinary").run_id]


def test_no_title_or_summary_is_ever_stored_for_a_temporary_chat(alice):
    session = _temporary()
    run = factories.run(session, "Hello", content="Hi.")

    assert not services.session_title_set_if_empty(session_id="temp-1", title="Hello there")
    assert not services.session_summary_save(
        session_id="temp-1",
        text="They said hello.",
        topics=[],
        last_run_id=run.run_id,
        expected_last_run_id=None,
    )
    assert DjangoDb().summary_inputs(session_id="temp-1", max_runs=5) is None
    session.refresh_from_db()
    assert session.title == "" and not SessionSummary.objects.exists()


# --- a chat never changes its kind ------------------------------------------------------------
def test_a_chat_never_changes_its_kind(alice):
    ordinary = services.session_get_or_create_for_run(session_id="ordinary", username="alice")
    temporary = _temporary()

    with pytest.raises(InvalidInput, match="is not a temporary chat, and a chat cannot become one"):
        services.session_get_or_create_for_run(session_id="ordinary", username="alice", temporary=True)
    with pytest.raises(InvalidInput, match="is a temporary chat: it stays one"):
        services.session_get_or_create_for_run(session_id="temp-1", username="alice", temporary=False)
    # Asked for neither kind (the Agent's runs), either is continued as it is.
    assert services.session_get_or_create_for_run(session_id="ordinary", username="alice") == ordinary
    again = services.session_get_or_create_for_run(session_id="temp-1", username="alice")
    assert again == temporary and again.temporary
    assert services.session_get_or_create_for_run(
        session_id="temp-1", username="alice", temporary=True
    ).temporary
    assert not AgentSession.objects.get(session_id="ordinary").temporary


def test_a_turn_in_a_temporary_chat_reads_its_kind_with_the_session_in_one_statement(
    alice, django_assert_num_queries
):
    _temporary()
    # The session and its owner in one statement; the kind comes with it (no query when read).
    with django_assert_num_queries(1):
        session = services.session_get_or_create_for_run(session_id="temp-1", username="alice")
        assert session.temporary


def test_the_admin_lists_temporary_chats_with_a_filter_and_never_changes_their_kind(client, staff, alice):
    AgentSession.objects.create(session_id="ordinary", user=alice)
    _temporary()
    client.force_login(staff)
    url = reverse("admin:sessions_app_agentsession_changelist")

    everything = client.get(url).content.decode()
    assert "ordinary" in everything and "temp-1" in everything and "By temporary" in everything
    only = client.get(url, {"temporary__exact": "1"}).content.decode()
    assert "temp-1" in only and ">ordinary<" not in only
    change = client.get(reverse("admin:sessions_app_agentsession_change", args=[_temporary().pk]))
    assert change.status_code == 200 and 'name="temporary"' not in change.content.decode()


def test_the_reply_of_a_temporary_chat_sends_no_sidebar_entry(alice):
    from sessions_app.chat.stream import final_frame

    ordinary = AgentSession.objects.create(session_id="ordinary", user=alice)
    for session in (ordinary, _temporary()):
        factories.run(session, "Hello", content="Hi.")
    frames = {
        run.session.session_id: final_frame(run_pk=run.pk, after_run=True, viewer=alice).decode()
        for run in Run.objects.select_related("session")
    }

    assert 'id="session-ordinary"' in frames["ordinary"]
    assert 'id="session-temp-1"' not in frames["temp-1"] and "/chats/temp-1/item/" not in frames["temp-1"]
    assert 'id="memory-panel"' in frames["temp-1"]  # the rest of the frame as ever
