"""The seed document's example, end to end, on both OpenAI adapters through the loopback server."""

from __future__ import annotations

import json

import pytest

from agentapp.agent import MemoryUpdated, RunCompleted, RunContent, ToolCallCompleted
from memory_app.models import Memory, MemoryChange
from sessions_app.models import Message, Run, RunEvent

pytestmark = [pytest.mark.django_db, pytest.mark.server_paths]

FIRST = "My name is Sarah and I prefer email over phone."
SECOND = "What's the best way to reach me?"
FACT = "Sarah prefers email over phone."


def _sent(request) -> str:
    return json.dumps(request.body)


def _seed_agent(make_agent, adapter):
    return make_agent(adapter, add_history_to_context=True, num_history_runs=5, enable_agentic_memory=True)


def test_the_second_turn_carries_the_first_turn_and_the_stored_memory(make_agent, adapter, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": FACT, "topics": ["contact"]})])
    fake_openai.reply(text="Nice to meet you, Sarah.")
    fake_openai.reply(text="Email is the best way to reach you.")
    agent = _seed_agent(make_agent, adapter)

    first = agent.run(FIRST, user_id="sarah@acme.com", session_id="thread-42")
    reply = agent.run(SECOND, user_id="sarah@acme.com", session_id="thread-42").content

    assert first.status == "completed"
    assert reply == "Email is the best way to reach you."
    assert len(fake_openai.requests) == 3
    second_turn_request = _sent(fake_openai.requests[2])
    assert FIRST in second_turn_request
    assert "Nice to meet you, Sarah." in second_turn_request
    assert FACT in second_turn_request
    assert SECOND in second_turn_request
    # The first request offered the memory tools; the tool result went back to the model.
    assert "add_memory" in _sent(fake_openai.requests[0])
    assert "Stored memory mem_" in _sent(fake_openai.requests[1])


def test_the_memory_is_readable_with_its_id_and_topics(make_agent, adapter, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": FACT, "topics": ["contact"]})])
    fake_openai.reply(text="Noted.")
    agent = _seed_agent(make_agent, adapter)

    output = agent.run(FIRST, user_id="sarah@acme.com", session_id="thread-42")

    memories = agent.get_user_memories(user_id="sarah@acme.com")
    assert [(m.memory, m.topics, m.user_id) for m in memories] == [(FACT, ["contact"], "sarah@acme.com")]
    assert memories[0].memory_id.startswith("mem_")
    change = MemoryChange.objects.get()
    assert (change.action, change.actor, change.run.run_id) == ("create", "model", output.run_id)
    assert change.after == {"text": FACT, "topics": ["contact"]}
    assert Memory.objects.get().source_run.run_id == output.run_id


def test_one_model_call_writes_the_memory_without_a_delegating_call(make_agent, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": FACT})])
    fake_openai.reply(text="Noted.")
    output = _seed_agent(make_agent, "chat").run(FIRST, user_id="sarah@acme.com", session_id="t")

    assert output.metrics.model_requests == 2
    assert output.metrics.tool_calls == 1
    assert len(fake_openai.requests) == 2


def test_every_step_of_the_run_is_an_event_with_times_and_tokens(make_agent, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": FACT})], usage=(100, 10))
    fake_openai.reply(text="Noted.", usage=(120, 3))
    output = _seed_agent(make_agent, "chat").run(FIRST, user_id="sarah@acme.com", session_id="t")

    events = list(RunEvent.objects.filter(run__run_id=output.run_id).order_by("started_at", "id"))
    assert [e.kind for e in events] == [
        "context",
        "model_request",
        "tool_call",
        "memory_update",
        "model_request",
    ]
    assert all(e.ended_at is not None and e.ended_at >= e.started_at for e in events)
    requests = [e for e in events if e.kind == "model_request"]
    assert [(e.input_tokens, e.output_tokens) for e in requests] == [(100, 10), (120, 3)]
    assert events[2].payload["result"].startswith("Stored memory mem_")
    assert events[0].payload["sections"][0]["name"] == "instructions"
    run = Run.objects.get(run_id=output.run_id)
    assert (run.status, run.input_tokens, run.output_tokens, run.total_tokens) == ("completed", 220, 13, 233)
    assert run.started_at <= run.first_token_at <= run.ended_at


def test_the_run_stores_the_user_message_tool_exchange_and_reply_in_order(make_agent, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": FACT})])
    fake_openai.reply(text="Noted.")
    output = _seed_agent(make_agent, "chat").run(FIRST, user_id="sarah@acme.com", session_id="t")

    rows = Message.objects.filter(run__run_id=output.run_id).order_by("position")
    assert [(m.role, m.content[:14]) for m in rows] == [
        ("user", FIRST[:14]),
        ("assistant", ""),
        ("tool", "Stored memory "),
        ("assistant", "Noted."),
    ]
    assert rows[1].tool_calls[0]["name"] == "add_memory"
    assert rows[2].tool_call_id == rows[1].tool_calls[0]["id"]
    # The output's messages as Agno composes them: the system message first, then the turn.
    assert [m.role for m in output.messages] == ["system", "user", "assistant", "tool", "assistant"]


def test_streaming_yields_text_deltas_tool_events_and_the_completed_run(make_agent, adapter, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": FACT})])
    fake_openai.reply(text="Nice to meet you, Sarah.")
    agent = _seed_agent(make_agent, adapter)

    events = list(
        agent.run(FIRST, user_id="sarah@acme.com", session_id="thread-42", stream=True, stream_events=True)
    )

    names = [e.event for e in events]
    assert names[0] == "RunStarted" and names[-1] == "RunCompleted"
    assert names.index("MemoryUpdated") < names.index("ToolCallCompleted") < names.index("RunContent")
    deltas = [e.content for e in events if isinstance(e, RunContent)]
    assert len(deltas) > 1
    assert "".join(deltas) == "Nice to meet you, Sarah."
    completed = events[-1]
    assert isinstance(completed, RunCompleted) and completed.content == "Nice to meet you, Sarah."
    assert next(e for e in events if isinstance(e, MemoryUpdated)).memory == FACT
    assert next(e for e in events if isinstance(e, ToolCallCompleted)).is_error is False
    assert Run.objects.get(run_id=completed.run_id).content == "Nice to meet you, Sarah."


def test_memories_reach_the_instructions_with_their_ids(make_agent, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": FACT})])
    fake_openai.reply(text="Noted.")
    fake_openai.reply(text="Hello again.")
    agent = _seed_agent(make_agent, "chat")
    agent.run(FIRST, user_id="sarah@acme.com", session_id="a")
    (memory,) = agent.get_user_memories(user_id="sarah@acme.com")
    memory_id, learned = memory.memory_id, memory.updated_at.date().isoformat()

    agent.run("Hi", user_id="sarah@acme.com", session_id="another-thread")

    system = fake_openai.requests[2].body["messages"][0]
    assert system["role"] == "system"
    # Each memory with the day it was learned or last confirmed, so "when" can be reasoned about.
    assert f"[{memory_id}] ({learned}) {FACT}" in system["content"]
