"""What recall shows people: the run page lists the memories placed in the context with their
scores, the chat marks exactly those, and search in the memory editor and the API ranks by meaning
and words."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memory_app import services
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

TARGET = "Alice is allergic to peanuts"


@pytest.fixture
def memories(alice, django_capture_on_commit_callbacks):
    stored = []
    for text in [TARGET, *(f"Alice enjoys hobby number {i} on weekends" for i in range(30))]:
        with django_capture_on_commit_callbacks(execute=True):
            memory, _ = services.memory_create(user_pk=alice.pk, text=text, actor="person")
        stored.append(memory)
    return stored


@pytest.fixture
def recalled_run(fake_embedder, app_model, memories, settings):
    from agentapp import app_agent

    settings.AGENT_MEMORY_CONTEXT_LIMIT = 4
    fake_embedder.reply(text="Better avoid them.")
    return app_agent.agent().run("Can I eat peanuts?", user_id="alice", session_id="alice-chat")


def test_the_run_page_lists_the_memories_used_with_their_scores(client, alice, recalled_run, memories):
    client.force_login(alice)

    body = client.get(reverse("runs:detail", args=[recalled_run.run_id])).content.decode()

    assert "4 of 31: ranked by meaning, words and recency" in body
    used = body.split('id="memories-used"')[1].split("</ul>")[0]
    assert used.count("<li>") == 4 and TARGET in used
    assert "meaning #1 (" in used and "words #1" in used and "score " in used
    assert "recall-scores" in body  # the context step's table of every memory's signals


def test_the_run_page_says_when_meaning_was_left_out(
    client, alice, fake_embedder, app_model, memories, settings
):
    from agentapp import app_agent

    settings.AGENT_MEMORY_CONTEXT_LIMIT = 4
    fake_embedder.embedding_fault(status=503, error="embedder down")
    fake_embedder.reply(text="ok")
    output = app_agent.agent().run("Can I eat peanuts?", user_id="alice")
    client.force_login(alice)

    body = client.get(reverse("runs:detail", args=[output.run_id])).content.decode()

    assert "ranked by words and recency" in body
    assert 'id="recall-note">Meaning left out: Embeddings server error (HTTP 503)' in body


def test_the_chat_marks_exactly_the_memories_the_last_answer_was_given_first(
    client, alice, recalled_run, memories
):
    client.force_login(alice)

    body = client.get(reverse("sessions:detail", args=["alice-chat"])).content.decode()

    marked = body.count('class="memory used"')
    assert marked == len(recalled_run.memories_used) == 4
    target = next(m for m in memories if m.text == TARGET)
    # The oldest memory, recalled for its meaning, is listed (first) although 30 are newer.
    assert body.index(f'data-memory-id="{target.memory_id}"') < body.index('class="memory"')


@pytest.fixture
def all_given_run(fake_embedder, app_model, alice, settings, django_capture_on_commit_callbacks):
    """A run whose person's three memories all fit the budget: all were given, none ranked."""
    from agentapp import app_agent

    for text in (TARGET, "Alice lives in Lyon", "Alice has a cat"):
        with django_capture_on_commit_callbacks(execute=True):
            services.memory_create(user_pk=alice.pk, text=text, actor="person")
    settings.AGENT_MEMORY_CONTEXT_LIMIT = 10
    fake_embedder.reply(text="Noted.")
    return app_agent.agent().run("hello", user_id="alice", session_id="alice-chat")


def test_when_every_memory_fits_the_chat_says_all_were_given_and_marks_none(client, alice, all_given_run):
    client.force_login(alice)

    body = client.get(reverse("sessions:detail", args=["alice-chat"])).content.decode()

    assert len(all_given_run.memories_used) == 3
    assert body.count('class="memory used"') == 0
    assert "All 3 memories were given to the model for the last answer." in body


def test_when_every_memory_fits_the_run_page_says_so_without_scores(client, alice, all_given_run):
    client.force_login(alice)

    body = client.get(reverse("runs:detail", args=[all_given_run.run_id])).content.decode()

    assert "All 3 memories were given (they fit the budget)" in body
    used = body.split('id="memories-used"')[1].split("</ul>")[0]
    assert used.count("<li>") == 3 and TARGET in used
    assert "score" not in used and "0.0000" not in body


def test_the_memory_editor_search_ranks_by_meaning_and_words(
    client, alice, fake_embedder, memories, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.memory_create(user_pk=alice.pk, text="Peanuts make Alice sneeze", actor="person")

    body = client.get(reverse("memory:list"), {"q": "allergic peanuts"}).content.decode()

    # Found by meaning too (this embedder's meaning is shared words), after the one matching both words.
    assert body.index(TARGET) < body.index("Peanuts make Alice sneeze")
    assert "hobby number" not in body
    words_only = client.get(
        reverse("memory:list"), {"q": "allergic peanuts", "mode": "words"}
    ).content.decode()
    assert TARGET in words_only and "Peanuts make Alice sneeze" not in words_only  # every word must match
    assert 'name="mode" value="words" checked' in words_only


def test_api_search_is_in_relevance_order_and_only_ever_the_callers(alice, bob, fake_embedder, memories):
    from apikeys.services import apikey_create

    services.memory_create(user_pk=bob.pk, text="Bob is allergic to peanuts", actor="person")
    _key, token = apikey_create(user=alice, name="test")
    api = ApiClient(token)

    found = api.get("/api/memories", search="what am I allergic to").json()["items"]

    texts = [m["text"] for m in found]
    assert texts[0] == TARGET and "Bob is allergic to peanuts" not in texts
    words = api.get("/api/memories", search="peanuts", mode="words").json()["items"]
    assert [m["text"] for m in words] == [TARGET]
    assert api.get("/api/memories", search="x", mode="telepathy").status_code == 422
