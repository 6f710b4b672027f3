"""Memory optimisation: the summarise strategy's request and its strict reading of the answer, the
dry run, and merges on both storages (DjangoDb with its audit trail and revert, InMemoryDb)."""

from __future__ import annotations

import json

import pytest

from agentapp.agent import InMemoryDb, MemoryNotFound, ModelError
from agentapp.agent.memory.optimization import (
    MAX_MEMORIES_PER_REQUEST,
    MAX_REQUEST_CHARS,
    OPTIMIZATION_INSTRUCTIONS,
    MemoryMerge,
    MemoryOptimizationStrategyType,
    SummarizeStrategy,
    apply_plan,
    optimize_memories,
    parse_merges,
    strategy_for,
)
from agentapp.agent.records import UserMemory
from agentapp.llm.demo import DemoModel


def _memories(*texts: str) -> list[UserMemory]:
    return [
        UserMemory(memory=text, memory_id=f"m{n}", topics=["t"], user_id="sarah")
        for n, text in enumerate(texts, start=1)
    ]


def _answer(*groups: dict) -> str:
    return json.dumps({"merges": list(groups)})


MEMORIES = _memories("Likes tea", "User likes tea", "Likes tea a lot", "Lives in Paris", "Has a dog")


# --- reading the model's answer ---------------------------------------------------------------
def test_a_well_formed_answer_becomes_merges_with_the_sources_texts():
    text = _answer({"ids": ["m1", "m2", "m3"], "memory": " User  likes tea a lot ", "topics": ["Drinks"]})

    [merge] = parse_merges(text, MEMORIES)

    assert merge.source_ids == ["m1", "m2", "m3"]
    assert (merge.memory, merge.topics) == ("User likes tea a lot", ["drinks"])
    assert merge.sources == ["Likes tea", "User likes tea", "Likes tea a lot"]


@pytest.mark.parametrize(
    "answer", ["not json", "", '{"merges": "m1,m2"}', "[1, 2]", '{"groups": []}', "{" * 5000]
)
def test_an_answer_that_is_not_the_json_asked_for_merges_nothing(answer):
    assert parse_merges(answer, MEMORIES) == []


def test_a_fenced_json_answer_is_read():
    text = "```json\n" + _answer({"ids": ["m1", "m2"], "memory": "User likes tea"}) + "\n```"

    [merge] = parse_merges(text, MEMORIES)

    assert merge.source_ids == ["m1", "m2"] and merge.topics == ["t"]  # none given: the sources'


def test_unknown_ids_are_dropped_and_a_group_left_with_fewer_than_two_is_ignored():
    text = _answer(
        {"ids": ["m1", "m_other_persons", "m2"], "memory": "User likes tea"},
        {"ids": ["m4", "m99"], "memory": "Lives in Paris"},
        {"ids": ["m5"], "memory": "Has a dog"},
        {"ids": ["m4", "m4"], "memory": "Lives in Paris"},
    )

    assert [m.source_ids for m in parse_merges(text, MEMORIES)] == [["m1", "m2"]]


def test_a_memory_named_by_two_groups_keeps_only_the_first_group():
    text = _answer(
        {"ids": ["m1", "m2"], "memory": "User likes tea"},
        {"ids": ["m2", "m3"], "memory": "User likes tea a lot"},
        {"ids": ["m4", "m5"], "memory": "Lives in Paris with a dog"},
    )

    assert [m.source_ids for m in parse_merges(text, MEMORIES)] == [["m1", "m2"], ["m4", "m5"]]


def test_a_group_without_a_usable_memory_text_is_ignored():
    text = _answer(
        {"ids": ["m1", "m2"], "memory": "   "},
        {"ids": ["m1", "m2"], "memory": 42},
        {"ids": ["m1", "m2"], "memory": "x" * 2001},
        {"ids": "m1 m2", "memory": "User likes tea"},
        "m1",
    )

    assert parse_merges(text, MEMORIES) == []


def test_the_request_lists_the_memories_with_their_ids_under_the_fixed_instructions(make_model, fake_openai):
    fake_openai.reply(text=_answer())

    SummarizeStrategy().plan(MEMORIES, make_model("chat"))

    [request] = fake_openai.requests
    system, user = request.body["messages"]
    assert system == {"role": "system", "content": OPTIMIZATION_INSTRUCTIONS}
    assert "- [m1] Likes tea (topics: t)" in user["content"] and "- [m5] Has a dog" in user["content"]


def test_the_request_is_bounded_by_count_whatever_the_number_of_memories(make_model, fake_openai):
    many = _memories(*(f"Fact number {n}" for n in range(MAX_MEMORIES_PER_REQUEST + 50)))
    fake_openai.reply(text=_answer())

    SummarizeStrategy().plan(many, make_model("chat"))

    sent = fake_openai.requests[0].body["messages"][1]["content"]
    assert sent.count("\n- [") == MAX_MEMORIES_PER_REQUEST and "Fact number 199 " in sent


def test_the_request_is_bounded_by_size_and_shows_each_memory_whole(make_model, fake_openai):
    long = _memories(*(f"Fact number {n} " + "word " * 390 + "end." for n in range(100)))
    fake_openai.reply(text=_answer({"ids": ["m1", "m99"], "memory": "Merged"}))

    merges = SummarizeStrategy().plan(long, make_model("chat"))

    sent = fake_openai.requests[0].body["messages"][1]["content"]
    assert (
        len(sent) <= MAX_REQUEST_CHARS + 100 and sent.count("end. (topics: t)") == sent.count("\n- [") < 100
    )
    assert merges == []  # m99 was not shown: the model cannot have read it


def test_fewer_than_two_memories_ask_the_model_nothing(make_model, fake_openai):
    assert SummarizeStrategy().plan(MEMORIES[:1], make_model("chat")) == []
    assert fake_openai.requests == []


def test_strategies_are_named_as_agno_names_them():
    assert isinstance(strategy_for(MemoryOptimizationStrategyType.SUMMARIZE), SummarizeStrategy)
    assert isinstance(strategy_for("summarize"), SummarizeStrategy)
    assert isinstance(strategy_for(None), SummarizeStrategy)
    with pytest.raises(ValueError):
        strategy_for("shuffle")
    with pytest.raises(TypeError):
        strategy_for(42)  # type: ignore[arg-type]


def test_the_demo_model_merges_memories_whose_words_one_contains(make_model):
    memories = _memories("Likes tea", "User likes tea", "Likes tea a lot", "Lives in Paris", "Has a dog")

    [merge] = SummarizeStrategy().plan(memories, DemoModel())

    assert merge.source_ids[0] == "m3" and set(merge.source_ids) == {"m1", "m2", "m3"}
    assert merge.memory == "Likes tea a lot"


# --- on the storages ----------------------------------------------------------------------------
def _remember(db, *texts: str) -> list[str]:
    run = db.run_begin(
        user_id="sarah", session_id="t", agent_name="a", message="hi", model_id="m", model_provider="p"
    )
    return [
        db.memory_add(run=run, memory=text, topics=["drinks"], actor="model")[0].memory_id for text in texts
    ]


def test_a_dry_run_plans_the_merges_and_writes_nothing(storage, make_model, fake_openai):
    ids = _remember(storage, "Likes tea", "User likes tea", "Lives in Paris")
    fake_openai.reply(text=_answer({"ids": ids[:2], "memory": "User likes tea", "topics": ["drinks"]}))

    plan = optimize_memories(db=storage, model=make_model("chat"), user_id="sarah", apply=False)

    assert not plan.applied and plan.merged_ids == [] and plan.memories_read == 3
    assert [set(m.source_ids) for m in plan.merges] == [set(ids[:2])]
    assert "Would merge 2 of the 3 memories of sarah into 1 (dry run" in plan.describe()
    assert {m.memory_id for m in storage.user_memories(user_id="sarah")} == set(ids)


def test_optimising_merges_three_duplicates_into_one(storage, make_model, fake_openai):
    ids = _remember(storage, "Likes tea", "User likes tea", "Likes tea a lot", "Lives in Paris")
    fake_openai.reply(text=_answer({"ids": ids[:3], "memory": "User likes tea a lot", "topics": ["drinks"]}))

    plan = optimize_memories(db=storage, model=make_model("chat"), user_id="sarah")

    assert plan.applied and len(plan.merged_ids) == 1
    left = {m.memory_id: m.memory for m in storage.user_memories(user_id="sarah")}
    assert left == {plan.merged_ids[0]: "User likes tea a lot", ids[3]: "Lives in Paris"}
    assert "Merged 3 of the 4 memories of sarah into 1" in plan.describe()


def test_a_merge_whose_source_went_meanwhile_is_left_out_and_the_others_still_apply(storage, make_model):
    ids = _remember(storage, "Likes tea", "User likes tea", "Lives in Paris", "User lives in Paris")

    class Planner:
        def plan(self, memories, model):
            run = storage.run_begin(
                user_id="sarah", session_id="t", agent_name="a", message="x", model_id="m", model_provider="p"
            )
            storage.memory_delete(run=run, memory_id=ids[0], actor="person")  # while the model thinks
            return [
                MemoryMerge(ids[:2], "User likes tea", []),
                MemoryMerge(ids[2:], "User lives in Paris", []),
            ]

    plan = optimize_memories(db=storage, model=make_model("chat"), user_id="sarah", strategy=Planner())

    assert ids[0] in plan.merges[0].error and plan.merges[1].merged_id
    assert plan.merged_ids == [plan.merges[1].merged_id]


def test_a_source_edited_while_the_model_planned_is_not_merged_unread(storage, make_model, fake_openai):
    ids = _remember(storage, "Likes tea", "User likes tea")
    fake_openai.reply(text=_answer({"ids": ids, "memory": "User likes tea"}))
    plan = optimize_memories(db=storage, model=make_model("chat"), user_id="sarah", apply=False)
    run = storage.run_begin(
        user_id="sarah", session_id="t", agent_name="a", message="x", model_id="m", model_provider="p"
    )
    storage.memory_update(
        run=run, memory_id=ids[1], memory="User likes tea, never coffee", topics=None, actor="person"
    )

    apply_plan(db=storage, plan=plan)

    assert "changed since the merge was planned" in plan.merges[0].error and plan.merged_ids == []
    assert len(storage.user_memories(user_id="sarah")) == 2


def test_a_failed_model_request_raises_and_merges_nothing(storage, make_model, fake_openai):
    ids = _remember(storage, "Likes tea", "User likes tea")
    fake_openai.reply(status=500, error="boom")

    with pytest.raises(ModelError):
        optimize_memories(db=storage, model=make_model("chat"), user_id="sarah")

    assert {m.memory_id for m in storage.user_memories(user_id="sarah")} == set(ids)


def test_another_persons_memories_are_never_merged(storage, make_model):
    ids = _remember(storage, "Likes tea", "User likes tea")

    with pytest.raises(MemoryNotFound):
        storage.memories_merge(
            user_id="bob", memory_ids=ids, memory="User likes tea", topics=[], actor="model"
        )

    assert len(storage.user_memories(user_id="sarah")) == 2


def test_in_memory_a_merge_names_its_sources():
    db = InMemoryDb()
    ids = _remember(db, "Likes tea", "User likes tea")

    merged = db.memories_merge(
        user_id="sarah", memory_ids=ids, memory="likes TEA", topics=["Drinks"], actor="x"
    )

    assert db.memory_merged_from(memory_id=merged.memory_id) == ids
    assert [(m.memory, m.topics) for m in db.user_memories(user_id="sarah")] == [("likes TEA", ["drinks"])]


@pytest.mark.django_db
def test_on_django_three_duplicates_merged_then_reverted_come_back_with_the_audit_trail(
    make_model, fake_openai
):
    from agentapp.db import DjangoDb
    from memory_app import services
    from memory_app.models import Memory, MemoryChange

    db = DjangoDb()
    ids = _remember(db, "Likes tea", "User likes tea", "Likes tea a lot")
    fake_openai.reply(text=_answer({"ids": ids, "memory": "User likes tea a lot", "topics": ["drinks"]}))

    plan = optimize_memories(db=db, model=make_model("chat"), user_id="sarah")

    [merged_id] = plan.merged_ids
    head = MemoryChange.objects.get(memory__memory_id=merged_id)
    assert (head.action, head.actor) == ("merge", "memory_manager")
    assert sorted(p.memory.memory_id for p in head.merged_sources.all()) == sorted(ids)
    services.memory_revert(change=head, actor="person")
    assert sorted(m.memory_id for m in db.user_memories(user_id="sarah")) == sorted(ids)
    assert Memory.objects.get(memory_id=merged_id).is_deleted
    assert MemoryChange.objects.filter(reverts__isnull=False).count() == 4  # 1 delete + 3 restores
