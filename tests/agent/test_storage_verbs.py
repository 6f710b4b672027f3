"""Agno's storage verbs (memories and sessions), the same on both storages, DjangoDb and InMemoryDb:
filters, pages and sorts, audited writes, and the REST API's ownership rule."""

from __future__ import annotations

import pytest

from agentapp.agent import Agent, InMemoryDb, InvalidInput, SessionOwnedByAnotherUser, UserMemory
from agentapp.agent.agent_session import SessionRecord
from agentapp.agent.storage import AgentDb
from agentapp.db import DjangoDb
from memory_app.models import Memory, MemoryChange


def remember(storage, user: str, *texts: str, topics=()):
    return [
        storage.upsert_user_memory(UserMemory(memory=t, user_id=user, topics=list(topics))) for t in texts
    ]


def test_get_user_memories_filters_by_topic_and_words_and_pages(storage):
    remember(storage, "sarah", "User likes green tea", "User likes black coffee", topics=["drinks"])
    remember(storage, "sarah", "User has a dog", topics=["pets"])
    remember(storage, "bob", "Bob likes green tea", topics=["drinks"])

    drinks = storage.get_user_memories("sarah", topics=["drinks"])
    tea = storage.get_user_memories("sarah", search_content="gree")
    page_two = storage.get_user_memories("sarah", limit=2, page=2)
    newest = storage.get_user_memories("sarah", sort_by="created_at", sort_order="desc", limit=1)

    assert [m.memory for m in drinks] == ["User likes green tea", "User likes black coffee"]
    assert [m.memory for m in tea] == ["User likes green tea"]
    assert [m.memory for m in page_two] == ["User has a dog"]
    assert [m.memory for m in newest] == ["User has a dog"]
    assert len(storage.get_user_memories()) == 4  # everyone's, without a user


def test_upsert_updates_the_persons_own_memory_and_never_another_persons(storage):
    [bobs] = remember(storage, "bob", "Bob is a pilot")
    [mine] = remember(storage, "sarah", "User likes tea")

    storage.upsert_user_memory(
        UserMemory(memory="User likes green tea", memory_id=mine.memory_id, user_id="sarah")
    )
    attempt = UserMemory(memory="hijacked", memory_id=bobs.memory_id, user_id="sarah")
    storage.upsert_user_memory(attempt)

    assert attempt.memory_id != bobs.memory_id  # stored as a new memory of sarah's
    assert storage.get_user_memory(bobs.memory_id, "bob").memory == "Bob is a pilot"
    assert storage.get_user_memory(bobs.memory_id, "sarah") is None
    assert {m.memory for m in storage.get_user_memories("sarah")} == {"User likes green tea", "hijacked"}


def test_a_memory_without_a_user_is_the_default_users_as_in_agno(storage):
    stored = storage.upsert_user_memory(UserMemory(memory="Whose is this?"))

    assert stored.user_id == "default"
    assert [m.memory for m in storage.get_user_memories("default")] == ["Whose is this?"]


def test_deleting_another_persons_memory_deletes_nothing(storage):
    [bobs] = remember(storage, "bob", "Bob is a pilot")
    assert storage.delete_user_memory(bobs.memory_id, "sarah") is False
    assert storage.delete_user_memories([bobs.memory_id], "bob") == 1
    assert storage.get_user_memories("bob") == []


def test_clear_memories_is_one_persons_and_everyones_needs_its_own_call(storage):
    remember(storage, "sarah", "User likes tea", "User likes cake")
    remember(storage, "bob", "Bob is a pilot")

    assert storage.clear_memories("sarah") == 2
    assert [m.memory for m in storage.get_user_memories()] == ["Bob is a pilot"]
    assert storage.clear_memories() == 0  # Agno's call without a person: the default user's, not everyone's
    assert storage.clear_all_memories() == 1
    assert storage.get_user_memories() == []


def test_topics_and_stats(storage):
    remember(storage, "sarah", "User likes tea", topics=["drinks"])
    remember(storage, "sarah", "User has a dog", topics=["pets"])
    remember(storage, "bob", "Bob is a pilot", topics=["work"])

    assert storage.get_all_memory_topics("sarah") == ["drinks", "pets"]
    assert storage.get_all_memory_topics() == ["drinks", "pets", "work"]
    stats, people = storage.get_user_memory_stats()
    assert people == 2
    assert {row["user_id"]: row["total_memories"] for row in stats} == {"sarah": 2, "bob": 1}
    assert stats[0]["user_id"] == "bob"  # the most recently changed first


@pytest.mark.django_db
def test_every_write_is_audited_with_the_callers_actor():
    db = DjangoDb()
    [memory] = remember(db, "sarah", "User likes tea")
    db.upsert_user_memory(
        UserMemory(memory="User likes tea a lot", memory_id=memory.memory_id, user_id="sarah"),
        actor="operator",
    )
    db.delete_user_memory(memory.memory_id, "sarah")

    assert list(MemoryChange.objects.order_by("id").values_list("action", "actor")) == [
        ("create", "api"),
        ("update", "operator"),
        ("delete", "api"),
    ]
    assert Memory.objects.get().deleted_at is not None  # soft: it can be restored from its history


# --- sessions ---------------------------------------------------------------------------------------
def session(storage, session_id: str, user: str, title: str = "", **state):
    return storage.upsert_session(
        SessionRecord(
            session_id=session_id, user_id=user, agent_name="agent", title=title, session_state=state
        )
    )


def test_upsert_session_creates_then_updates_name_and_state(storage):
    created = session(storage, "s1", "sarah", "Trip to Lisbon", city="Lisbon")
    updated = session(storage, "s1", "sarah", "Trip to Porto", city="Porto")

    assert (created.title, created.session_state) == ("Trip to Lisbon", {"city": "Lisbon"})
    assert (updated.title, updated.session_state) == ("Trip to Porto", {"city": "Porto"})
    assert [s.session_id for s in storage.get_sessions()] == ["s1"]
    with pytest.raises(SessionOwnedByAnotherUser):
        session(storage, "s1", "bob", "mine now")
    with pytest.raises(InvalidInput):
        session(storage, "no spaces please", "sarah")


def test_get_sessions_searches_sorts_and_pages_one_persons_sessions(storage):
    session(storage, "a", "sarah", "Alpha plans")
    session(storage, "b", "sarah", "Bravo plans")
    session(storage, "c", "sarah", "Charlie")
    session(storage, "d", "bob", "Bob's plans")

    assert [
        s.session_id
        for s in storage.get_sessions("sarah", search="plans", sort_by="session_name", sort_order="asc")
    ] == ["a", "b"]
    assert [
        s.session_id
        for s in storage.get_sessions("sarah", sort_by="created_at", sort_order="asc", limit=2, page=2)
    ] == ["c"]
    assert [s.session_id for s in storage.get_sessions("sarah", sort_by="created_at")] == ["c", "b", "a"]
    assert len(storage.get_sessions()) == 4


def test_get_sessions_finds_a_session_by_what_was_said_in_it(storage, make_model, fake_openai):
    fake_openai.reply(text="Lisbon in May is lovely.")
    Agent(model=make_model("chat"), db=storage).run("Where should I go?", user_id="sarah", session_id="s1")
    session(storage, "s2", "sarah", "Other")

    assert [s.session_id for s in storage.get_sessions("sarah", search="lisbon")] == ["s1"]
    assert storage.get_sessions("bob", search="lisbon") == []


def test_get_session_has_its_runs_and_hides_another_persons(storage, make_model, fake_openai):
    fake_openai.reply(text="hello")
    Agent(model=make_model("chat"), db=storage).run("hi", user_id="sarah", session_id="s1")

    mine = storage.get_session("s1", user_id="sarah")
    assert [r.input for r in mine.runs] == ["hi"]
    assert storage.get_session("s1", user_id="bob") is None
    assert storage.get_session("missing") is None


def test_rename_and_delete_follow_the_ownership_rule(storage):
    session(storage, "s1", "sarah", "Old")
    session(storage, "s2", "sarah", "Other")

    with pytest.raises(SessionOwnedByAnotherUser):
        storage.rename_session("s1", "Bob's now", user_id="bob")
    assert storage.rename_session("s1", "New", user_id="sarah").title == "New"
    assert storage.rename_session("missing", "x") is None
    with pytest.raises(InvalidInput):
        storage.rename_session("s1", "x" * 201)
    assert storage.delete_session("s1", user_id="bob") is False
    assert storage.delete_sessions(["s1", "s2", "missing"], user_id="sarah") == 2
    assert storage.get_sessions("sarah") == []


@pytest.mark.parametrize("storage_class", [DjangoDb, InMemoryDb])
def test_both_storages_offer_every_verb_of_the_storage_protocol(storage_class):
    protocols = [cls for cls in AgentDb.__mro__ if getattr(cls, "_is_protocol", False)]
    verbs = {name for cls in protocols for name, value in vars(cls).items() if callable(value)}
    verbs -= {name for name in verbs if name.startswith("_")}

    assert len(verbs) > 30
    assert sorted(v for v in verbs if not callable(getattr(storage_class, v, None))) == []
