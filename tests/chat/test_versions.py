"""Versions of a turn: a message edited, an answer regenerated. Each is a new version at its point of
the thread, with the later turns of every version kept; the model hears only the version shown."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from agentapp import app_agent
from memory_app.models import Memory
from sessions_app import selectors, services
from sessions_app.models import AgentSession, Run, SessionSummary

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_summaries")]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def chat(client, alice):
    client.force_login(alice)
    return AgentSession.objects.create(session_id="versions", user=alice, title="Drinks")


def _drive(run: Run) -> Run:
    """Run a pending run the chat made (its POST starts it only under ASGI)."""
    app_agent.agent().run_pending(run.run_id)
    run.refresh_from_db()
    return run


def _say(client: Client, text: str, *, parent: Run | None = None, **extra) -> Run:
    data = {"message": text, **({"parent": parent.run_id} if parent else {})}
    response = client.post(reverse("sessions:send", args=["versions"]), data, **HTMX, **extra)
    assert response.status_code == 200, response.content
    return _drive(Run.objects.latest("id"))


def _edit(client: Client, run: Run, text: str) -> Run:
    """Edit `run`'s message in the chat, then run the new version the edit made."""
    client.post(reverse("sessions:edit", args=[run.run_id]), {"message": text}, **HTMX)
    return _drive(Run.objects.latest("id"))


def _heard(app_model) -> list[str]:
    """What the last model request held of the conversation (the user's and the agent's words)."""
    messages = app_model.requests[-1].body["messages"]
    return [m["content"] for m in messages if m["role"] in ("user", "assistant") and m.get("content")]


def _page(client: Client) -> str:
    return client.get(reverse("sessions:detail", args=["versions"])).content.decode()


@pytest.fixture
def three_turns(client, chat, app_model):
    for reply in ("Hi Ann.", "Noted: tea.", "You like tea."):
        app_model.reply(text=reply)
    first = _say(client, "My name is Ann")
    second = _say(client, "I like tea")
    third = _say(client, "What do I like?")
    return first, second, third


def test_an_edited_message_is_a_new_version_and_the_model_hears_only_that_version(
    client, three_turns, app_model
):
    first, second, third = three_turns
    app_model.reply(text="Noted: coffee.")
    response = client.post(
        reverse("sessions:edit", args=[second.run_id]), {"message": "I like coffee"}, **HTMX
    )
    assert response.status_code == 200
    edited = _drive(Run.objects.latest("id"))
    assert (edited.input, edited.parent_id, edited.status) == ("I like coffee", first.pk, "completed")
    assert _heard(app_model) == ["My name is Ann", "Hi Ann.", "I like coffee"]

    body = response.content.decode()  # the thread, now showing the new version without the later turn
    assert f'id="exchange-{edited.run_id}"' in body and f'id="exchange-{third.run_id}"' not in body
    assert 'class="versions-at" aria-live="polite">2/2<' in body

    app_model.reply(text="You like coffee.")
    after = _say(client, "What do I like?", parent=edited)
    assert after.parent_id == edited.pk
    assert _heard(app_model) == [
        "My name is Ann",
        "Hi Ann.",
        "I like coffee",
        "Noted: coffee.",
        "What do I like?",
    ]
    assert "tea" not in " ".join(_heard(app_model))


def test_switching_versions_brings_back_each_versions_later_turns_and_survives_a_reload(
    client, three_turns, app_model
):
    first, second, third = three_turns
    app_model.reply(text="Noted: coffee.")
    edited = _edit(client, second, "I like coffee")
    app_model.reply(text="Coffee, then.")
    coffee_follow_up = _say(client, "Coffee or tea?", parent=edited)

    response = client.post(reverse("sessions:show", args=[second.run_id]), **HTMX)
    assert response.status_code == 200
    for body in (response.content.decode(), _page(client)):  # and again after a reload
        assert "I like tea" in body and "What do I like?" in body
        assert "I like coffee" not in body and "Coffee or tea?" not in body
        assert 'class="versions-at" aria-live="polite">1/2<' in body
        assert f'hx-post="/chat/runs/{edited.run_id}/show/"' in body  # the next version

    client.post(reverse("sessions:show", args=[edited.run_id]), **HTMX)
    body = _page(client)
    assert "I like coffee" in body and "Coffee or tea?" in body and "I like tea" not in body
    # Each thread goes on from where it was: a message without a page's parent follows the one shown.
    app_model.reply(text="Coffee.")
    assert _say(client, "Again?").parent_id == coffee_follow_up.pk
    assert first.parent_id is None and third.parent_id == second.pk


def test_a_message_follows_the_version_its_page_shows_even_when_another_tab_switched(
    client, three_turns, app_model
):
    _, second, third = three_turns
    app_model.reply(text="Noted: coffee.")
    client.post(reverse("sessions:regenerate", args=[second.run_id]), **HTMX)
    regenerated = _drive(Run.objects.latest("id"))
    # This tab still shows the first version (it loaded before); another tab switched to the second.
    app_model.reply(text="Tea.")
    follow_up = _say(client, "And to eat?", parent=third)
    assert follow_up.parent_id == third.pk
    assert "Noted: coffee." not in " ".join(_heard(app_model))
    body = _page(client)  # the thread shown is the one the message went on
    assert "And to eat?" in body and f'id="exchange-{regenerated.run_id}"' not in body


def test_a_parent_from_another_chat_is_refused_and_nothing_is_stored(client, chat, alice):
    other = AgentSession.objects.create(session_id="other", user=alice)
    elsewhere = services.run_create(session=other, input="elsewhere")
    response = client.post(
        reverse("sessions:send", args=["versions"]), {"message": "hi", "parent": elsewhere.run_id}, **HTMX
    )
    assert response.status_code == 404 and "reload" in response.content.decode()
    assert not chat.runs.exists()


def test_a_blank_edit_is_refused_with_the_reason_and_changes_nothing(client, three_turns):
    _, second, _ = three_turns
    response = client.post(reverse("sessions:edit", args=[second.run_id]), {"message": "  "}, **HTMX)
    assert response.status_code == 422 and "empty" in response.content.decode()
    assert Run.objects.count() == 3


def test_editing_a_turn_still_being_answered_stops_it_first(client, chat):
    running = services.run_create(session=chat, input="Write a long poem")
    client.post(reverse("sessions:edit", args=[running.run_id]), {"message": "Write a haiku"}, **HTMX)
    running.refresh_from_db()
    new = Run.objects.latest("id")
    assert running.status == "cancelled"
    assert (new.input, new.parent_id, new.status) == ("Write a haiku", None, "pending")


def test_a_blank_edit_of_a_turn_being_answered_leaves_it_running(client, chat):
    running = services.run_create(session=chat, input="Write a long poem")
    response = client.post(reverse("sessions:edit", args=[running.run_id]), {"message": " "}, **HTMX)
    running.refresh_from_db()
    assert response.status_code == 422 and running.status == "running" and chat.runs.count() == 1


def test_the_edit_form_holds_the_message_and_says_what_stays(client, three_turns):
    _, second, _ = three_turns
    body = client.get(reverse("sessions:edit", args=[second.run_id]), **HTMX).content.decode()
    assert ">I like tea</textarea>" in body and "this one stays" in body
    cancelled = client.get(reverse("sessions:message", args=[second.run_id]), **HTMX).content.decode()
    assert 'class="bubble">I like tea<' in cancelled


def test_memories_a_version_wrote_stay_when_another_is_shown_and_the_chat_says_so(
    client, three_turns, app_model, alice
):
    _, second, _ = three_turns
    app_model.reply(tool_calls=[("add_memory", {"memory": "Ann likes tea"})])
    app_model.reply(text="Tea, noted.")
    client.post(reverse("sessions:regenerate", args=[second.run_id]), **HTMX)
    writer = _drive(Run.objects.latest("id"))
    assert writer.memory_changes.exists()

    app_model.reply(text="Noted.")
    client.post(reverse("sessions:regenerate", args=[writer.run_id]), **HTMX)
    _drive(Run.objects.latest("id"))
    assert Memory.objects.filter(user=alice, text="Ann likes tea", deleted_at__isnull=True).exists()
    assert "Another version of this turn changed what the agent remembers" in _page(client)
    body = client.get(reverse("runs:detail", args=[writer.run_id])).content.decode()
    assert 'id="run-version-note"' in body and "3 of 3" not in body and "2 of 3" in body


def test_history_follows_the_version_and_stays_bounded(chat):
    """The walk back from a run reads its own ancestors only, and no further than it needs."""

    def turn(text, parent):
        run = services.run_create(session=chat, input=text, parent_pk=parent.pk if parent else None)
        Run.objects.filter(pk=run.pk).update(status="completed")
        return run

    a = turn("a", None)
    b1 = turn("b1", a)
    b2 = turn("b2", a)
    c = turn("c", b2)
    d = turn("d", c)
    texts = [m["content"] for m in selectors.history_messages(run_pk=d.pk)]
    assert texts == ["a", "b2", "c"]
    assert [m["content"] for m in selectors.history_messages(run_pk=d.pk, num_runs=2)] == ["b2", "c"]
    assert [m["content"] for m in selectors.history_messages(run_pk=d.pk, num_messages=1)] == ["c"]
    assert [m["content"] for m in selectors.history_messages(run_pk=b1.pk)] == ["a"]
    assert selectors.shown_path_pks(session_pk=chat.pk) == [d.pk, c.pk, b2.pk, a.pk]


def test_a_summary_of_another_version_is_left_out_and_folded_again(chat, three_turns, client, app_model):
    from agentapp.db import DjangoDb

    _, second, third = three_turns
    SessionSummary.objects.create(session=chat, text="Ann likes tea.", last_run=third)
    assert selectors.summary_for_context(session_pk=chat.pk, run_pk=third.pk + 10**6) is None  # no such run
    app_model.reply(text="Noted: coffee.")
    client.post(reverse("sessions:edit", args=[second.run_id]), {"message": "I like coffee"}, **HTMX)
    edited = Run.objects.latest("id")
    assert selectors.summary_for_context(session_pk=chat.pk, run_pk=edited.pk) is None
    _drive(edited)
    inputs = DjangoDb().summary_inputs(session_id="versions", max_runs=10)
    assert inputs.summary is None and inputs.replaces == third.run_id
    assert [turn.input for turn in inputs.turns] == ["My name is Ann", "I like coffee"]

    # On the version it covers, the summary is given to the model as before.
    client.post(reverse("sessions:show", args=[third.run_id]), **HTMX)
    app_model.reply(text="Tea.")
    follow_up = services.run_create(session=chat, input="More?", status=Run.Status.PENDING)
    found = selectors.summary_for_context(session_pk=chat.pk, run_pk=follow_up.pk)
    assert found is not None and found["text"] == "Ann likes tea."


def test_a_scripts_session_runs_name_their_parents_and_its_chat_history_follows_the_version_shown(
    client, three_turns, app_model
):
    from agentapp.agent import Agent
    from agentapp.db import DjangoDb

    first, second, third = three_turns
    app_model.reply(text="Noted: coffee.")
    edited = _edit(client, second, "I like coffee")
    db = DjangoDb()
    parents = {run.run_id: run.parent_run_id for run in db.session_runs(session_id="versions")}
    assert parents == {
        first.run_id: None,
        second.run_id: first.run_id,
        third.run_id: second.run_id,
        edited.run_id: first.run_id,
    }
    agent = Agent(model=app_agent.configured_model(), db=db)
    history = [m.content for m in agent.get_chat_history(session_id="versions") if m.role == "user"]
    assert history == ["My name is Ann", "I like coffee"]
    messages = [m.content for m in agent.get_session_messages(session_id="versions") if m.role == "user"]
    assert messages == ["My name is Ann", "I like coffee"]
    runs = agent.get_session(session_id="versions").runs
    assert [r.shown for r in runs] == [True, False, False, True]  # every version, the shown ones said
