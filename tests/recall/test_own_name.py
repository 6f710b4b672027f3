"""A person's own name is said as "the person" in everything embedded for them (their memories, their
messages, the search box's query), so it no longer pulls every memory towards every message that
names them; vectors of the text as written are re-made by the sweep."""

from __future__ import annotations

import pytest

from agentapp.agent.memory.own_name import own_names, said_as_the_person
from memory_app import embedding as memory_embedding
from memory_app import services
from memory_app.models import Memory, MemoryEmbedding
from memory_app.search import memory_search
from tests.fake_openai import fake_embedding
from tests.recall.conftest import FAKE_STORED
from tests.recall.helpers import agent_with, context_event, distractors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("account", "names"),
    [
        ("alice", ("alice",)),
        ("alice.moreau@example.com", ("alice", "moreau")),
        ("Tom_O'Neil-2", ("tom", "neil")),
        ("u42", ()),
        ("", ()),
    ],
)
def test_the_name_is_the_account_names_words(account, names):
    assert own_names(account) == names


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Alice is allergic to shellfish", "the person is allergic to shellfish"),
        ("Alice's daughter Maya is allergic to kiwi", "the person's daughter Maya is allergic to kiwi"),
        ("Alice Moreau\u2019s flat is in Porto", "the person's flat is in Porto"),
        ("Would ALICE enjoy paella?", "Would the person enjoy paella?"),
        ("Malice and Alicea are not her name", "Malice and Alicea are not her name"),
        ("I moved to Porto", "I moved to Porto"),
    ],
)
def test_the_name_is_said_as_the_person(text, said):
    assert said_as_the_person(text, ("alice", "moreau")) == said


def test_memories_and_messages_are_embedded_with_the_name_said_one_way(
    fake_embedder, alice, remember, make_agent
):
    (allergy,) = remember(alice, "Alice is allergic to shellfish")
    remember(alice, *distractors(30))
    fake_embedder.reply(text="ok")

    output = agent_with(make_agent, memory_context_limit=5).run(
        "Would Alice enjoy a seafood paella?", user_id="alice"
    )

    assert "the person is allergic to shellfish" in fake_embedder.embedded_texts()
    assert "Would the person enjoy a seafood paella?" in fake_embedder.embedded_texts()
    assert MemoryEmbedding.objects.get(memory=allergy).model == FAKE_STORED
    assert context_event(output.run_id)["recall"]["strategy"] == "hybrid"
    assert allergy.memory_id in output.memories_used


def test_the_search_box_embeds_its_query_the_same_way(fake_embedder, alice, remember):
    remember(alice, "Alice is allergic to shellfish")

    memory_search(user_pk=alice.pk, query="alice seafood")

    assert fake_embedder.embedded_texts()[-1] == "the person seafood"


def test_vectors_of_the_text_as_written_are_made_again_by_the_sweep(fake_embedder, alice):
    memory = Memory.objects.create(
        user=alice, text="Alice rides a red bike", normalized_text="alice rides a red bike"
    )
    services.memory_embeddings_save(  # as stored before names were said one way
        model="openai:fake-embed",
        vectors={memory.pk: fake_embedding(memory.text)},
        texts={memory.pk: memory.text},
    )

    assert memory_embedding.embed_pending() == 1

    row = MemoryEmbedding.objects.get(memory=memory)
    assert row.model == FAKE_STORED
    assert row.vector == pytest.approx(fake_embedding("the person rides a red bike"), abs=1e-6)
