"""update_memory_on_run: a separate request (asked alongside the reply in a script; its writes after
it), with the stored memories and the run."""

from __future__ import annotations

import json

import pytest

from memory_app.models import MemoryChange
from sessions_app.models import Run, RunEvent
from tests.fake_openai import MEMORY_MANAGER_LANE, request_lane

pytestmark = pytest.mark.django_db


def test_the_memory_manager_stores_a_fact_after_the_reply(make_agent, fake_openai):
    fake_openai.reply(text="Nice to meet you.")
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "User is called Sarah", "topics": ["name"]})],
        lane=MEMORY_MANAGER_LANE,
    )
    fake_openai.reply(text="Done.", lane=MEMORY_MANAGER_LANE)
    agent = make_agent("chat", update_memory_on_run=True)

    output = agent.run("I'm Sarah", user_id="sarah", session_id="t")

    assert output.content == "Nice to meet you."
    assert [m.memory for m in agent.get_user_memories("sarah")] == ["User is called Sarah"]
    change = MemoryChange.objects.get()
    assert change.actor == "memory_manager" and change.run.run_id == output.run_id
    manager_request = json.dumps(_manager_requests(fake_openai)[0].body)
    assert "I'm Sarah" in manager_request and "add_memory" in manager_request
    names = list(RunEvent.objects.filter(kind="model_request").values_list("name", flat=True))
    assert sorted(names) == ["gpt-test", "memory_manager", "memory_manager"]  # the first two side by side


def test_the_memory_manager_sees_the_memories_already_stored(make_agent, fake_openai):
    fake_openai.reply(text="Hi.")
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "User is called Sarah"})], lane=MEMORY_MANAGER_LANE
    )
    fake_openai.reply(text="Done.", lane=MEMORY_MANAGER_LANE)
    fake_openai.reply(text="Sure.")
    fake_openai.reply(text="No changes.", lane=MEMORY_MANAGER_LANE)
    agent = make_agent("chat", update_memory_on_run=True)
    agent.run("I'm Sarah", user_id="sarah", session_id="t")

    agent.run("Thanks", user_id="sarah", session_id="t")

    assert "User is called Sarah" in json.dumps(_manager_requests(fake_openai)[-1].body)
    assert MemoryChange.objects.count() == 1


def test_a_failed_memory_update_leaves_the_reply_completed(make_agent, fake_openai):
    fake_openai.reply(text="Hello!")
    fake_openai.reply(status=500, error="manager down", lane=MEMORY_MANAGER_LANE)
    output = make_agent("chat", update_memory_on_run=True).run("I'm Sarah", user_id="sarah", session_id="t")

    assert output.status == "completed"
    run = Run.objects.get()
    assert run.status == "completed"
    assert "Automatic memory update failed" in RunEvent.objects.get(kind="error").payload["message"]


def _manager_requests(fake_openai):
    return [r for r in fake_openai.requests if request_lane(r.body) == MEMORY_MANAGER_LANE]
