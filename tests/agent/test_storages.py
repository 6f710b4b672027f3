"""The Agent behaves the same on both storages: DjangoDb (PostgreSQL) and InMemoryDb (no database).

History, the memory tools, summaries, titles, a session's owner and a stopped run, each tested
through the public Agent, once per storage.
"""

from __future__ import annotations

import json

import pytest

from agentapp.agent import RunCompleted, RunNotFound, SessionOwnedByAnotherUser
from tests.fake_openai import MEMORY_MANAGER_LANE


def _sent(request) -> str:
    return json.dumps(request.body)


def test_history_carries_the_last_runs_only(agent_on, fake_openai):
    agent = agent_on(add_history_to_context=True, num_history_runs=2)
    for n in range(4):
        fake_openai.reply(text=f"answer {n}")
        agent.run(f"question {n}", user_id="sarah", session_id="t")
    fake_openai.reply(text="answer 4")

    agent.run("question 4", user_id="sarah", session_id="t")

    last = fake_openai.requests[-1].body["messages"]
    assert [m["content"] for m in last[1:]] == [
        "question 2",
        "answer 2",
        "question 3",
        "answer 3",
        "question 4",
    ]


def test_without_history_the_model_sees_only_the_new_message(agent_on, fake_openai):
    agent = agent_on(add_history_to_context=False)
    fake_openai.reply(text="one")
    agent.run("first", user_id="sarah", session_id="t")
    fake_openai.reply(text="two")

    agent.run("second", user_id="sarah", session_id="t")

    assert [m["role"] for m in fake_openai.requests[-1].body["messages"]] == ["system", "user"]


def test_the_memory_tools_write_the_runs_users_memories_and_the_next_turn_sees_them(agent_on, fake_openai):
    agent = agent_on(enable_agentic_memory=True)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Sarah likes tea", "topics": ["Drinks"]})])
    fake_openai.reply(text="Noted.")
    agent.run("I like tea", user_id="sarah", session_id="t")
    [memory] = agent.get_user_memories(user_id="sarah")
    assert (memory.memory, memory.topics) == ("Sarah likes tea", ["drinks"])

    fake_openai.reply(
        tool_calls=[("update_memory", {"memory_id": memory.memory_id, "memory": "Sarah likes green tea"})]
    )
    fake_openai.reply(text="Updated.")
    agent.run("Green tea, actually", user_id="sarah", session_id="t")

    assert memory.memory_id in _sent(fake_openai.requests[2])  # the stored memory, with its id
    assert [m.memory for m in agent.get_user_memories(user_id="sarah")] == ["Sarah likes green tea"]
    assert agent.get_user_memories(user_id="bob") == []


def test_a_memory_tool_cannot_reach_another_users_memory(agent_on, fake_openai):
    agent = agent_on(enable_agentic_memory=True)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Bob is a pilot"})])
    fake_openai.reply(text="Noted.")
    agent.run("I fly planes", user_id="bob", session_id="b")
    [bobs] = agent.get_user_memories(user_id="bob")
    fake_openai.reply(tool_calls=[("delete_memory", {"memory_id": bobs.memory_id})])
    fake_openai.reply(text="Done.")

    agent.run("Forget that", user_id="sarah", session_id="s")

    assert "not found" in _sent(fake_openai.requests[-1]).lower()  # the tool's error went back to the model
    assert [m.memory for m in agent.get_user_memories(user_id="bob")] == ["Bob is a pilot"]


def test_an_identical_memory_is_not_stored_twice(agent_on, fake_openai):
    agent = agent_on(enable_agentic_memory=True)
    for _ in range(2):
        fake_openai.reply(tool_calls=[("add_memory", {"memory": "Sarah likes tea"})])
        fake_openai.reply(text="Noted.")
        agent.run("I like tea", user_id="sarah", session_id="t")

    assert len(agent.get_user_memories(user_id="sarah")) == 1
    assert "Already stored" in _sent(fake_openai.requests[-1])


def test_another_users_session_is_refused_before_the_model_is_called(agent_on, fake_openai):
    agent = agent_on()
    fake_openai.reply(text="Hello Sarah.")
    agent.run("Hi", user_id="sarah", session_id="t")

    with pytest.raises(SessionOwnedByAnotherUser):
        agent.run("Hi", user_id="mallory", session_id="t")

    assert len(fake_openai.requests) == 1
    with pytest.raises(SessionOwnedByAnotherUser):
        agent.get_session("t", user_id="mallory")


def test_a_session_reads_back_with_its_messages_and_a_title_from_its_first_words(agent_on, fake_openai):
    agent = agent_on()
    fake_openai.reply(text="Lisbon is lovely in May.")
    agent.run("Plan a trip to Lisbon in May for two people", user_id="sarah", session_id="t")

    session = agent.get_session("t", user_id="sarah")
    assert (session.user_id, session.title) == ("sarah", "Plan a trip to Lisbon in…")
    history = agent.get_chat_history("t")
    assert [(m.role, m.content) for m in history] == [
        ("user", "Plan a trip to Lisbon in May for two people"),
        ("assistant", "Lisbon is lovely in May."),
    ]


def test_summaries_fold_new_runs_once(agent_on, fake_openai):
    agent = agent_on(enable_session_summaries=True)
    fake_openai.reply(text="Hello.")
    fake_openai.reply(text="Sarah said hello.\nTopics: greetings")

    agent.run("Hi", user_id="sarah", session_id="t")

    summary = agent.get_session_summary("t")
    assert (summary.summary, summary.topics) == ("Sarah said hello.", ["greetings"])
    assert agent.update_session_summary("t").requests == 0  # nothing new to fold: no model call
    fake_openai.reply(text="Tea?")
    fake_openai.reply(text="Sarah said hello and asked about tea.\nTopics: greetings, tea")
    agent.run("Tea?", user_id="sarah", session_id="t")
    assert "Sarah said hello." in _sent(fake_openai.requests[-1])  # the old summary, folded into
    assert "Tea?" in fake_openai.requests[-1].body["messages"][-1]["content"]
    assert agent.get_session_summary("t").topics == ["greetings", "tea"]


def test_the_automatic_memory_update_is_done_before_the_run_completes(agent_on, fake_openai):
    agent = agent_on(update_memory_on_run=True)
    fake_openai.reply(text="Nice to meet you.")
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "User is called Sarah"})], lane=MEMORY_MANAGER_LANE
    )
    fake_openai.reply(text="Done.", lane=MEMORY_MANAGER_LANE)

    events = list(agent.run("I'm Sarah", user_id="sarah", session_id="t", stream=True, stream_events=True))

    names = [type(e).__name__ for e in events]
    assert names[-4:] == ["MemoryUpdateStarted", "MemoryUpdated", "MemoryUpdateCompleted", "RunCompleted"]
    assert names.index("RunContent") < names.index("MemoryUpdateStarted")  # the reply streamed first
    assert [m.memory for m in agent.get_user_memories(user_id="sarah")] == ["User is called Sarah"]


def test_closing_a_stream_early_ends_the_run_as_cancelled_with_what_was_said(agent_on, fake_openai):
    agent = agent_on()
    fake_openai.reply(text="one two three four five", chunk_delay=0.05)
    events = agent.run("count", user_id="sarah", session_id="t", stream=True, stream_events=True)
    next(events)  # RunStarted
    while next(events).event != "RunContent":  # up to the first words
        pass
    events.close()

    history = agent.get_chat_history("t")
    assert history[0].content == "count" and history[1].content.startswith("one")


def test_a_finished_run_can_be_found_again_for_the_work_after_it(agent_on, storage, fake_openai):
    fake_openai.reply(text="Hi.")
    output = agent_on().run("Hi", user_id="sarah", session_id="t")

    assert storage.run_handle(run_id=output.run_id).session_id == "t"
    with pytest.raises(RunNotFound):
        storage.run_handle(run_id="run_nope")


def test_streamed_events_end_with_the_completed_run(agent_on, fake_openai):
    fake_openai.reply(text="Hello there.")
    events = list(agent_on().run("Hi", user_id="sarah", session_id="t", stream=True, stream_events=True))
    assert isinstance(events[-1], RunCompleted) and events[-1].content == "Hello there."
