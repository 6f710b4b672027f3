"""Facts over time through the public Agent, on both storages: a fact that changed is closed and
replaced (supersede), never overwritten or left beside the new one; what reaches the context is what
is true now; `as_of` answers what was true at an instant; Agno code that knows nothing of validity
works unchanged."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from agentapp.agent import Agent, InvalidInput, UserMemory
from agentapp.agent.memory.manager import MemoryManager
from agentapp.agent.memory.recall import Recalled, RecallQuery, asks_about_past, with_what_they_replaced

pytest_plugins = ["tests.fake_openai"]


def remember(storage, user: str, text: str) -> UserMemory:
    return storage.upsert_user_memory(UserMemory(memory=text, user_id=user))


def _context_of(request) -> str:
    return "\n".join(str(m.get("content") or "") for m in request.body["messages"])


def test_a_change_the_model_marks_closes_the_old_fact_and_only_the_new_reaches_the_context(
    storage, make_model, fake_openai
):
    agent = Agent(model=make_model("chat"), db=storage, enable_agentic_memory=True)
    lisbon = remember(storage, "alice", "Alice lives in Lisbon")
    before = datetime.now(UTC)
    time.sleep(0.01)
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "Alice lives in Porto", "replaces": lisbon.memory_id})]
    )
    fake_openai.reply(text="Congratulations on the move!")

    agent.run("I moved to Porto last week", user_id="alice", session_id="s1")

    tool_result = fake_openai.requests[1].body["messages"][-1]["content"]
    assert "past fact" in tool_result
    [current] = agent.get_user_memories(user_id="alice")
    assert current.memory == "Alice lives in Porto" and current.is_current
    history = {m.memory: m for m in agent.get_user_memories(user_id="alice", include_superseded=True)}
    old = history["Alice lives in Lisbon"]
    assert old.valid_to is not None and old.superseded_by == current.memory_id
    assert current.valid_from == old.valid_to
    # What was true before the move, and after it.
    assert [m.memory for m in agent.get_user_memories(user_id="alice", as_of=before)] == [
        "Alice lives in Lisbon"
    ]
    assert [m.memory for m in agent.get_user_memories(user_id="alice", as_of=datetime.now(UTC))] == [
        "Alice lives in Porto"
    ]

    fake_openai.reply(text="You live in Porto.")
    agent.run("Where do I live now?", user_id="alice", session_id="s2")
    context = _context_of(fake_openai.requests[-1])
    assert "Alice lives in Porto" in context
    assert "Lisbon" not in context


def test_a_correction_of_wording_stays_an_update_in_place(storage, make_model, fake_openai):
    agent = Agent(model=make_model("chat"), db=storage, enable_agentic_memory=True)
    typo = remember(storage, "alice", "Alice lives in Lisbn")
    fake_openai.reply(
        tool_calls=[("update_memory", {"memory_id": typo.memory_id, "memory": "Alice lives in Lisbon"})]
    )
    fake_openai.reply(text="Fixed.")

    agent.run("You spelled Lisbon wrong", user_id="alice", session_id="s")

    every = agent.get_user_memories(user_id="alice", include_superseded=True)
    assert [(m.memory_id, m.memory, m.valid_to) for m in every] == [
        (typo.memory_id, "Alice lives in Lisbon", None)
    ]


def test_replacing_a_fact_that_is_no_longer_current_or_another_persons_is_refused_to_the_model(
    storage, make_model, fake_openai
):
    agent = Agent(model=make_model("chat"), db=storage, enable_agentic_memory=True)
    lisbon = remember(storage, "alice", "Alice lives in Lisbon")
    bobs = remember(storage, "bob", "Bob lives in Oslo")
    storage.memory_supersede(
        run=storage.memory_scope(user_id="alice"),
        memory_id=lisbon.memory_id,
        memory="Alice lives in Porto",
        topics=None,
        actor="api",
    )
    fake_openai.reply(
        tool_calls=[
            ("add_memory", {"memory": "Alice lives in Faro", "replaces": lisbon.memory_id}),
            ("add_memory", {"memory": "Bob lives in Rome", "replaces": bobs.memory_id}),
        ]
    )
    fake_openai.reply(text="ok")

    agent.run("I moved again", user_id="alice", session_id="s")

    results = [m["content"] for m in fake_openai.requests[1].body["messages"] if m["role"] == "tool"]
    assert "no longer current" in results[0]
    assert "not found" in results[1].lower()
    assert [m.memory for m in agent.get_user_memories(user_id="alice")] == ["Alice lives in Porto"]
    assert [m.memory for m in agent.get_user_memories(user_id="bob")] == ["Bob lives in Oslo"]


def test_the_same_text_as_a_past_fact_can_be_true_again(storage):
    scope = storage.memory_scope(user_id="alice")
    lisbon = remember(storage, "alice", "Alice lives in Lisbon")
    porto = storage.memory_supersede(
        run=scope, memory_id=lisbon.memory_id, memory="Alice lives in Porto", topics=None, actor="api"
    )
    back = storage.memory_supersede(
        run=scope, memory_id=porto.memory_id, memory="Alice lives in Lisbon", topics=None, actor="api"
    )

    assert back.memory_id != lisbon.memory_id and back.is_current
    texts = sorted(
        (m.memory, m.is_current) for m in storage.get_user_memories("alice", include_superseded=True)
    )
    assert texts == [
        ("Alice lives in Lisbon", False),
        ("Alice lives in Lisbon", True),
        ("Alice lives in Porto", False),
    ]


def test_a_fact_no_longer_true_leaves_the_current_memories_but_stays_in_the_past(storage):
    job = remember(storage, "alice", "Alice works at Acme")
    storage.memory_expire(run=storage.memory_scope(user_id="alice"), memory_id=job.memory_id, actor="api")

    assert storage.get_user_memories("alice") == []
    [past] = storage.get_user_memories("alice", include_superseded=True)
    assert past.valid_to is not None and past.superseded_by is None
    with pytest.raises(InvalidInput, match="no longer current"):
        storage.memory_expire(run=storage.memory_scope(user_id="alice"), memory_id=job.memory_id, actor="api")


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        (datetime.now(UTC) + timedelta(days=1), "future"),
        (datetime(2026, 1, 1), "time zone"),
    ],
)
def test_as_of_in_the_future_or_without_a_time_zone_is_refused(storage, as_of, message):
    with pytest.raises(InvalidInput, match=message):
        storage.get_user_memories("alice", as_of=as_of)


def test_a_change_cannot_date_before_the_fact_it_replaces_or_in_the_future(storage):
    scope = storage.memory_scope(user_id="alice")
    lisbon = remember(storage, "alice", "Alice lives in Lisbon")
    for when in (lisbon.valid_from - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)):
        with pytest.raises(InvalidInput):
            storage.memory_supersede(
                run=scope,
                memory_id=lisbon.memory_id,
                memory="Alice lives in Porto",
                topics=None,
                actor="api",
                valid_from=when,
            )
    assert [m.memory for m in storage.get_user_memories("alice", include_superseded=True)] == [
        "Alice lives in Lisbon"
    ]


def test_agno_dicts_without_validity_still_load_and_validity_round_trips():
    agno = UserMemory.from_dict({"memory": "Likes tea", "memory_id": "m1", "updated_at": 1767225600})
    assert agno.valid_from is None and agno.valid_to is None and agno.is_current

    closed = UserMemory(
        memory="Lives in Lisbon",
        memory_id="m2",
        valid_from=datetime(2025, 1, 10, tzinfo=UTC),
        valid_to=datetime(2026, 5, 2, tzinfo=UTC),
        superseded_by="m3",
    )
    again = UserMemory.from_dict(closed.to_dict())
    assert (again.valid_from, again.valid_to, again.superseded_by) == (
        closed.valid_from,
        closed.valid_to,
        "m3",
    )
    assert "valid_to" not in agno.to_dict()


def test_the_memory_manager_is_told_how_to_tell_a_change_from_a_new_fact():
    instructions = MemoryManager().instructions()
    assert "replaces" in instructions
    assert "never beside the old one" in instructions
    assert "wording" in instructions


def _moved(storage) -> None:
    lisbon = remember(storage, "alice", "Alice lives in Lisbon")
    storage.memory_supersede(
        run=storage.memory_scope(user_id="alice"),
        memory_id=lisbon.memory_id,
        memory="Alice lives in Porto",
        topics=None,
        actor="api",
    )


@pytest.mark.parametrize("limit", [50, 2])  # every memory fits / ranked by meaning, words and recency
def test_a_question_about_the_past_recalls_the_past_fact_shown_as_past(
    storage, make_model, fake_openai, limit
):
    _moved(storage)
    for text in ("Alice has a dog called Pepper", "Alice plays the cello", "Alice works as a nurse"):
        remember(storage, "alice", text)
    agent = Agent(
        model=make_model("chat"), db=storage, add_memories_to_context=True, memory_context_limit=limit
    )
    fake_openai.reply(text="In Lisbon.")
    fake_openai.reply(text="In Porto.")

    agent.run("Where did I live before Porto?", user_id="alice", session_id="s1")
    agent.run("Which city do I live in?", user_id="alice", session_id="s2")

    about_past, about_now = (_context_of(request) for request in fake_openai.requests)
    [past_line] = [line for line in about_past.splitlines() if "Lisbon" in line]
    assert "no longer true" in past_line and " to " in past_line
    assert "Alice lives in Porto" in about_past
    assert "Lisbon" not in about_now


@pytest.mark.parametrize(
    ("message", "past"),
    [
        ("Where did I live before Porto?", True),
        ("What was my old job?", True),
        ("Do I still have the same car?", True),
        ("Where did I use to work, years ago?", True),
        ("Where do I live?", False),
        ("What's my job?", False),
        ("Recommend a book for the weekend", False),
    ],
)
def test_what_counts_as_a_question_about_the_past(message, past):
    assert asks_about_past(message) is past


@pytest.mark.django_db
def test_the_fact_a_ranked_memory_replaced_is_found_though_no_signal_ranks_it():
    from agentapp.db import DjangoDb

    storage = DjangoDb()
    _moved(storage)
    for n in range(60):  # newer than Lisbon, sharing no word with the question: recency ends before it
        remember(storage, "alice", f"Alice keeps note number {n} about gardening")
    agent_query = RecallQuery(text="What city was home before Porto?", limit=3, include_past=True)

    recall = storage.memories_recall(run=storage.memory_scope(user_id="alice"), query=agent_query)

    assert [m.memory for m in recall.memories[:2]] == ["Alice lives in Porto", "Alice lives in Lisbon"]
    now_only = storage.memories_recall(
        run=storage.memory_scope(user_id="alice"), query=RecallQuery(text="Where do I live, Porto?", limit=3)
    )
    assert "Alice lives in Lisbon" not in [m.memory for m in now_only.memories]


def test_a_chain_of_changes_is_followed_back_from_the_current_fact():
    def item(mid: str, by: str | None = None) -> Recalled:
        return Recalled(UserMemory(memory=mid, memory_id=mid, superseded_by=by), 0.0, {})

    ranked = [item("berlin"), item("cello"), item("porto", "berlin"), item("lisbon", "porto")]

    assert [r.memory.memory_id for r in with_what_they_replaced(ranked)] == [
        "berlin",
        "porto",
        "lisbon",
        "cello",
    ]
