"""One ranking: the chat's context and the memory editor's (and the API's) search box order a
person's memories by the same fusion of meaning, words and recency. The search box lists those that
match its words or come close in meaning; among the memories both list, the order is the same."""

from __future__ import annotations

import pytest

from memory_app.search import memory_search
from tests.recall.helpers import agent_with, context_event

pytestmark = pytest.mark.django_db

# One person's memories over months: names, places, dates, several about one subject in other words.
MEMORIES = [
    "Alice is allergic to peanuts",
    "Alice's daughter Maya is allergic to shellfish",
    "Alice avoids peanut butter since the hospital visit in March",
    "Alice lives in Lisbon with her partner Joao",
    "Alice moved from Porto to Lisbon in 2024",
    "Alice works as a nurse at Santa Maria hospital",
    "Alice prefers email over phone calls",
    "Alice's phone number changed in June",
    "Alice runs the Lisbon half marathon every March",
    "Alice trains for races on Sunday mornings",
    "Alice's favourite food is grilled sardines",
    "Alice cooks dinner for Maya on weekdays",
    "Alice is learning Japanese for a trip to Kyoto",
    "Alice plans to visit Kyoto in April with Joao",
    "Alice's manager at the hospital is Dr. Costa",
    "Alice takes the night shift on Fridays",
    "Alice has a cat named Pimenta",
    "Alice's cat Pimenta needs a vet visit in May",
    "Alice reads crime novels before bed",
    "Alice does not drink coffee after noon",
    *[f"Alice enjoys hobby number {i} on weekends" for i in range(20)],
]
QUERIES = ["peanuts", "hospital", "Kyoto trip", "Lisbon", "Maya allergic", "phone", "cat vet", "March"]


def test_the_search_box_orders_memories_as_the_context_does(
    fake_openai, local_embedder, alice, remember, make_agent
):
    remember(alice, *MEMORIES)
    agent = agent_with(make_agent, memory_context_limit=10)
    compared = 0
    for query in QUERIES:
        fake_openai.reply(text="ok")
        output = agent.run(query, user_id="alice")
        recall = context_event(output.run_id)["recall"]
        assert recall["strategy"] == "hybrid"
        in_context = [m["memory_id"] for m in recall["memories"]]

        searched = [m.memory_id for m in memory_search(user_pk=alice.pk, query=query)]

        both = set(in_context) & set(searched)
        assert [i for i in searched if i in both] == [i for i in in_context if i in both], query
        compared += len(both)
    assert compared >= 2 * len(QUERIES)  # the orders compared are not trivially short


def test_the_search_box_lists_matches_that_no_signal_ranks_after_the_ranked(fake_embedder, alice, remember):
    remember(alice, *MEMORIES)

    found = [m.text for m in memory_search(user_pk=alice.pk, query="hosp", mode="words")]

    # A prefix matches as one types; the words signal (whole words) ranks none of these, so they
    # come newest first.
    assert found == [
        "Alice's manager at the hospital is Dr. Costa",
        "Alice works as a nurse at Santa Maria hospital",
        "Alice avoids peanut butter since the hospital visit in March",
    ]
