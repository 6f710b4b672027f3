"""A person's settings, obeyed by the real model loop on DjangoDb and the loopback model: their custom
instructions in the system message, counted as a context section of their own; their memories unused
when they said so; nothing learned when they said so."""

from __future__ import annotations

import json
import re

import pytest

from agentapp.agent.prompt import estimate_tokens
from agentapp.agent.run.context import person_instructions
from memory_app.models import Memory, MemoryChange
from memory_app.services import memory_create
from sessions_app.models import RunEvent
from sessions_app.services import person_settings_save
from tests.fake_openai import MEMORY_MANAGER_LANE

pytestmark = pytest.mark.django_db

ABOUT = "I am a beekeeper in Lyon."
HOW = "Answer in two sentences at most."


def tool_names(body: dict) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


def system_text(body: dict) -> str:
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")


def test_the_custom_instructions_reach_the_model_and_are_counted_as_their_own_section(
    adapter, make_agent, fake_openai, alice
):
    person_settings_save(user=alice, changes={"about_you": ABOUT, "how_to_respond": HOW})
    fake_openai.reply(text="Bonjour.")

    output = make_agent(adapter).run("Hello", user_id="alice", session_id="alice-bees")

    sent = json.dumps(fake_openai.requests[0].body)
    assert ABOUT in sent and HOW in sent
    context = RunEvent.objects.get(run__run_id=output.run_id, kind=RunEvent.Kind.CONTEXT)
    sections = {s["name"]: s for s in context.payload["sections"]}
    assert list(sections)[:2] == ["instructions", "person"]
    assert sections["person"]["tokens"] == estimate_tokens(person_instructions(ABOUT, HOW))


def test_the_custom_instructions_are_in_the_system_message_and_nowhere_else(make_agent, fake_openai, alice):
    person_settings_save(user=alice, changes={"about_you": ABOUT})
    fake_openai.reply(text="Hi.")

    make_agent("chat").run("Hello", user_id="alice", session_id="alice-bees")

    body = fake_openai.requests[0].body
    assert ABOUT in system_text(body)
    assert not [m for m in body["messages"] if m["role"] != "system" and ABOUT in (m["content"] or "")]


def test_without_custom_instructions_there_is_no_person_section(make_agent, fake_openai, alice):
    person_settings_save(user=alice, changes={"about_you": "   "})
    fake_openai.reply(text="Hi.")

    output = make_agent("chat").run("Hello", user_id="alice", session_id="alice-plain")

    context = RunEvent.objects.get(run__run_id=output.run_id, kind=RunEvent.Kind.CONTEXT)
    assert "person" not in [s["name"] for s in context.payload["sections"]]


def test_the_context_view_labels_the_persons_section_with_its_tokens(client, make_agent, fake_openai, alice):
    person_settings_save(user=alice, changes={"how_to_respond": HOW})
    fake_openai.reply(text="Fine.")
    output = make_agent("chat").run("Hello", user_id="alice", session_id="alice-view")

    client.force_login(alice)
    body = client.get(f"/runs/{output.run_id}/context/").content.decode()

    tokens = estimate_tokens(person_instructions("", HOW))
    row = re.search(r'<tr class="ctx-section" data-section="person">(.*?)</tr>', body)
    assert row is not None, body
    assert "Your custom instructions" in row.group(1)
    assert f'<td class="num section-tokens">{tokens}</td>' in row.group(1)
    assert f"Your custom instructions · {tokens} tokens" in body
    assert HOW in body
    event = RunEvent.objects.get(run__run_id=output.run_id, kind=RunEvent.Kind.CONTEXT)
    detail = client.get(f"/runs/{output.run_id}/events/{event.pk}/").content.decode()
    assert '<tr data-section="person"><td>Your custom instructions</td>' in detail


@pytest.mark.parametrize("use_memories", [True, False])
def test_with_memories_off_none_is_sent_and_no_search_is_offered(
    make_agent, fake_openai, alice, use_memories
):
    memory_create(user_pk=alice.pk, text="Alice keeps three hives", actor="person")
    person_settings_save(user=alice, changes={"use_memories": use_memories})
    fake_openai.reply(text="Hello.")

    output = make_agent("chat", enable_agentic_memory=True).run(
        "What do you know?", user_id="alice", session_id="alice-mem"
    )

    body = fake_openai.requests[0].body
    assert ("three hives" in json.dumps(body)) is use_memories
    assert ("search_memories" in tool_names(body)) is use_memories
    assert "add_memory" in tool_names(body)  # learning is still on
    context = RunEvent.objects.get(run__run_id=output.run_id, kind=RunEvent.Kind.CONTEXT)
    assert ("memories" in [s["name"] for s in context.payload["sections"]]) is use_memories


@pytest.mark.parametrize("learn_memories", [True, False])
def test_with_learning_off_the_agent_is_offered_no_memory_writes(
    make_agent, fake_openai, alice, learn_memories
):
    memory_create(user_pk=alice.pk, text="Alice keeps three hives", actor="person")
    person_settings_save(user=alice, changes={"learn_memories": learn_memories})
    fake_openai.reply(text="Noted.")

    make_agent("chat", enable_agentic_memory=True).run(
        "I moved to Grenoble", user_id="alice", session_id="alice-learn"
    )

    body = fake_openai.requests[0].body
    writes = {"add_memory", "update_memory", "delete_memory"} & tool_names(body)
    assert bool(writes) is learn_memories
    assert "search_memories" in tool_names(body)  # memories are still used
    assert "three hives" in json.dumps(body)


def test_with_learning_off_the_automatic_update_does_not_run(make_agent, fake_openai, alice):
    person_settings_save(user=alice, changes={"learn_memories": False})
    fake_openai.reply(text="Nice to meet you.")
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User is called Alice"})])
    fake_openai.reply(text="Done.")

    output = make_agent("chat", update_memory_on_run=True).run(
        "I'm Alice, I moved to Grenoble", user_id="alice", session_id="alice-auto"
    )

    assert output.content == "Nice to meet you."
    assert len(fake_openai.requests) == 1  # no memory manager request
    assert not Memory.objects.exists() and not MemoryChange.objects.exists()
    names = set(RunEvent.objects.filter(kind="model_request").values_list("name", flat=True))
    assert "memory_manager" not in names


def test_with_learning_on_the_automatic_update_runs(make_agent, fake_openai, alice):
    """The same turn as above with learning on: the update runs (so the test above can fail)."""
    person_settings_save(user=alice, changes={"learn_memories": True})
    fake_openai.reply(text="Nice to meet you.")
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "User is called Alice"})], lane=MEMORY_MANAGER_LANE
    )
    fake_openai.reply(text="Done.", lane=MEMORY_MANAGER_LANE)

    make_agent("chat", update_memory_on_run=True).run(
        "I'm Alice, I moved to Grenoble", user_id="alice", session_id="alice-auto"
    )

    assert [m.text for m in Memory.objects.all()] == ["User is called Alice"]
