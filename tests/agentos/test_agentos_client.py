"""Agno's own AgentOSClient (agno 3.1.10) against /os/ under uvicorn, with the loopback model: every
session, memory and run method works and reads back what it wrote."""

from __future__ import annotations

import json

import httpx
import pytest
from agno.client import AgentOSClient
from agno.db.base import SessionType
from agno.run.agent import RunCompletedEvent, RunContentEvent, RunStartedEvent

from memory_app.models import Memory, MemoryChange
from sessions_app.models import AgentSession, Run
from tests.fake_openai import Reply

from .conftest import run

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_config_lists_the_apps_one_agent_with_its_model_and_database(agentos):
    client = AgentOSClient(agentos.base_url)

    async def calls():
        config = await client.aget_config(headers=agentos.alice)
        agents = await client.list_agents(headers=agentos.alice)
        agent = await client.aget_agent("agent", headers=agentos.alice)
        return config, agents, agent

    config, agents, agent = run(calls())
    assert [a.id for a in config.agents] == ["agent"] and config.teams == [] and config.workflows == []
    assert config.databases == ["django"]
    assert [(a.id, a.db_id, a.model.id) for a in agents] == [("agent", "django", "gpt-test")]
    assert agent.id == "agent" and agent.model.model == "gpt-test"


def test_session_methods_write_and_read_back(agentos, alice):
    client = AgentOSClient(agentos.base_url)
    h = agentos.alice

    async def calls():
        made = await client.create_session(
            session_name="Trip plans", session_state={"city": "Oslo"}, headers=h
        )
        got = await client.get_session(made.session_id, headers=h)
        renamed = await client.rename_session(made.session_id, "Trip to Oslo", headers=h)
        updated = await client.update_session(made.session_id, session_state={"city": "Bergen"}, headers=h)
        listed = await client.get_sessions(headers=h)
        named = await client.get_sessions(session_name="oslo", headers=h)
        other = await client.create_session(session_id="second-thread", headers=h)
        third = await client.create_session(headers=h)
        await client.delete_sessions(
            [other.session_id, third.session_id], [SessionType.AGENT, SessionType.AGENT], headers=h
        )
        after_bulk = await client.get_sessions(headers=h)
        await client.delete_session(made.session_id, headers=h)
        try:
            await client.get_session(made.session_id, headers=h)
            gone = None
        except httpx.HTTPStatusError as error:
            gone = error.response
        return made, got, renamed, updated, listed, named, other, after_bulk, gone

    made, got, renamed, updated, listed, named, other, after_bulk, gone = run(calls())
    assert made.session_name == "Trip plans" and made.session_state == {"city": "Oslo"}
    assert made.user_id == "alice" and made.agent_id == "agent"
    assert got.session_id == made.session_id and got.session_state == {"city": "Oslo"}
    assert renamed.session_name == "Trip to Oslo"
    assert updated.session_state == {"city": "Bergen"} and updated.session_name == "Trip to Oslo"
    assert [s.session_id for s in listed.data] == [made.session_id]
    assert listed.meta.total_count == 1 and listed.meta.page == 1 and listed.meta.total_pages == 1
    assert [s.session_name for s in named.data] == ["Trip to Oslo"]
    assert other.session_id == "second-thread"
    assert [s.session_id for s in after_bulk.data] == [made.session_id]
    assert gone.status_code == 404 and "detail" in gone.json()
    assert not AgentSession.objects.filter(user=alice).exists()


def test_a_run_through_the_client_is_stored_and_read_back_as_the_sessions_runs(agentos, app_model):
    client = AgentOSClient(agentos.base_url)
    h = agentos.alice
    app_model.responder = lambda request: Reply(text="Oslo is lovely in June.")

    async def calls():
        output = await client.run_agent("agent", "When should I visit Oslo?", headers=h)
        runs = await client.get_session_runs(output.session_id, headers=h)
        one = await client.get_session_run(output.session_id, output.run_id, headers=h)
        await client.cancel_agent_run("agent", output.run_id, headers=h)  # finished: stays as it ended
        previews = await client.aget_session_run_previews(output.session_id, headers=h)
        done = await client.get_session_runs(output.session_id, status=["completed"], headers=h)
        failed = await client.get_session_runs(output.session_id, status=["ERROR"], headers=h)
        later = await client.get_session_runs(output.session_id, created_after=2**33, headers=h)
        return output, runs, one, previews, done, failed, later

    output, runs, one, previews, done, failed, later = run(calls())
    assert output.content == "Oslo is lovely in June." and output.status.value == "COMPLETED"
    assert [(r.run_id, r.run_input, r.content) for r in runs] == [
        (output.run_id, "When should I visit Oslo?", "Oslo is lovely in June.")
    ]
    assert one.run_id == output.run_id and one.status == "COMPLETED" and one.created_at is not None
    assert [(p.run_id, p.run_input, p.content_preview) for p in previews] == [
        (output.run_id, "When should I visit Oslo?", "Oslo is lovely in June.")
    ]
    assert [r.run_id for r in done] == [output.run_id] and failed == [] and later == []
    # the sync twin, as Agno's own sync callers use it
    synced = AgentOSClient(agentos.base_url).get_session_run_previews(output.session_id, headers=h)
    assert [p.run_id for p in synced] == [output.run_id]
    stored = Run.objects.get(run_id=output.run_id)
    assert stored.status == "completed" and stored.user.username == "alice"


def test_a_streamed_run_yields_agnos_events_with_the_replys_text(agentos, app_model):
    client = AgentOSClient(agentos.base_url)
    app_model.responder = lambda request: Reply(text="Bergen has the most rain.", chunk_delay=0.01)

    async def calls():
        return [
            event
            async for event in client.run_agent_stream(
                "agent", "Which city is rainiest?", session_id="rain-thread", headers=agentos.alice
            )
        ]

    events = run(calls())
    assert isinstance(events[0], RunStartedEvent) and events[0].session_id == "rain-thread"
    pieces = [e.content for e in events if isinstance(e, RunContentEvent)]
    assert len(pieces) > 1 and "".join(pieces) == "Bergen has the most rain."
    assert isinstance(events[-1], RunCompletedEvent) and events[-1].content == "Bergen has the most rain."
    assert {e.run_id for e in events} == {events[0].run_id} and events[-1].agent_id == "agent"
    assert Run.objects.get(run_id=events[0].run_id).session.session_id == "rain-thread"


def test_tool_events_carry_agnos_nested_tool_object(agentos, app_model, settings):
    settings.AGENT_AGENTIC_MEMORY = True
    app_model.reply(tool_calls=[("add_memory", {"memory": "Alice likes rain"})])
    app_model.reply(text="I will remember that.")
    client = AgentOSClient(agentos.base_url)

    async def calls():
        return [e async for e in client.run_agent_stream("agent", "I like rain", headers=agentos.alice)]

    events = run(calls())
    started = next(e for e in events if e.event == "ToolCallStarted")
    completed = next(e for e in events if e.event == "ToolCallCompleted")
    assert started.tool.tool_name == "add_memory" and started.tool.tool_args == {"memory": "Alice likes rain"}
    assert completed.tool.tool_name == "add_memory" and completed.tool.result
    assert events[-1].event == "RunCompleted" and events[-1].content == "I will remember that."


def test_memory_methods_write_and_read_back_with_the_audit_trail(agentos, app_model, alice):
    client = AgentOSClient(agentos.base_url)
    h = agentos.alice

    async def calls():
        tea = await client.create_memory("Alice likes green tea", "alice", topics=["drinks"], headers=h)
        got = await client.get_memory(tea.memory_id, headers=h)
        coffee = await client.create_memory(
            "Alice likes coffee", "alice", topics=["drinks", "mornings"], headers=h
        )
        walk = await client.create_memory("Alice walks to work", "alice", headers=h)
        listed = await client.list_memories(user_id="alice", limit=2, headers=h)
        second = await client.list_memories(user_id="alice", limit=2, page=2, headers=h)
        by_topic = await client.list_memories(topics=["mornings"], headers=h)
        found = await client.list_memories(search_content="green", headers=h)
        updated = await client.update_memory(tea.memory_id, "Alice likes jasmine tea", "alice", headers=h)
        topics = await client.get_memory_topics(headers=h)
        stats = await client.get_user_memory_stats(headers=h)
        await client.delete_memory(walk.memory_id, headers=h)
        after_delete = await client.list_memories(headers=h)
        return tea, got, coffee, walk, listed, second, by_topic, found, updated, topics, stats, after_delete

    tea, got, coffee, walk, listed, second, by_topic, found, updated, topics, stats, after_delete = run(
        calls()
    )
    assert tea.memory == "Alice likes green tea" and tea.topics == ["drinks"] and tea.user_id == "alice"
    assert got.memory_id == tea.memory_id and got.memory == tea.memory
    assert listed.meta.total_count == 3 and listed.meta.total_pages == 2 and len(listed.data) == 2
    assert len(second.data) == 1 and {m.memory_id for m in listed.data + second.data} == {
        tea.memory_id,
        coffee.memory_id,
        walk.memory_id,
    }
    assert [m.memory_id for m in by_topic.data] == [coffee.memory_id]
    assert [m.memory_id for m in found.data] == [tea.memory_id]
    assert updated.memory == "Alice likes jasmine tea" and updated.memory_id == tea.memory_id
    assert topics == ["drinks", "mornings"]
    assert [(s.user_id, s.total_memories) for s in stats.data] == [("alice", 3)]
    assert {m.memory_id for m in after_delete.data} == {tea.memory_id, coffee.memory_id}
    # the same audit trail as /api/: each write a change by the API, the key's person its actor
    changes = MemoryChange.objects.filter(memory__user=alice)
    assert set(changes.values_list("actor", flat=True)) == {"api"}
    assert set(changes.values_list("action", flat=True)) >= {"create", "update", "delete"}


def test_bulk_delete_and_optimize_memories(agentos, app_model, alice):
    client = AgentOSClient(agentos.base_url)
    h = agentos.alice

    async def made():
        a = await client.create_memory("Alice likes tea", "alice", headers=h)
        b = await client.create_memory("Alice enjoys tea", "alice", headers=h)
        c = await client.create_memory("Alice has a cat", "alice", headers=h)
        d = await client.create_memory("Alice has a dog", "alice", headers=h)
        return a, b, c, d

    a, b, c, d = run(made())
    merge = {"merges": [{"ids": [a.memory_id, b.memory_id], "memory": "Alice loves tea"}]}
    app_model.responder = lambda request: Reply(text=json.dumps(merge))

    async def calls():
        await client.delete_memories([c.memory_id, d.memory_id], headers=h)
        dry = await client.optimize_memories("alice", apply=False, headers=h)
        done = await client.optimize_memories("alice", headers=h)
        left = await client.list_memories(headers=h)
        return dry, done, left

    dry, done, left = run(calls())
    assert dry.memories_before == 2 and dry.memories_after == 1
    assert done.memories_after == 1 and [m.memory for m in done.memories] == ["Alice loves tea"]
    assert [m.memory for m in left.data] == ["Alice loves tea"]
    assert Memory.objects.current().filter(user=alice).count() == 1


def test_a_service_key_acts_for_anyone_and_lists_everyone_without_a_user_id(agentos):
    client = AgentOSClient(agentos.base_url)

    async def calls():
        await client.create_session(session_id="alices", headers=agentos.alice)
        await client.create_session(session_id="bobs", headers=agentos.bob)
        for_carol = await client.create_session(user_id="carol", headers=agentos.service)
        everyone = await client.get_sessions(headers=agentos.service)
        bobs_only = await client.get_sessions(user_id="bob", headers=agentos.service)
        alices_view = await client.get_sessions(headers=agentos.alice)
        memory = await client.create_memory("Carol likes jazz", "carol", headers=agentos.service)
        output = await client.run_agent("agent", "hi", user_id="dave", headers=agentos.service)
        return for_carol, everyone, bobs_only, alices_view, memory, output

    for_carol, everyone, bobs_only, alices_view, memory, output = run(calls())
    assert for_carol.user_id == "carol"
    assert {s.session_id for s in everyone.data} == {"alices", "bobs", for_carol.session_id}
    assert [s.session_id for s in bobs_only.data] == ["bobs"]
    assert [s.session_id for s in alices_view.data] == ["alices"]
    assert memory.user_id == "carol" and output.user_id == "dave"


def test_a_chat_deleted_in_the_app_is_gone_from_the_clients_lists_at_once(agentos, alice):
    from sessions_app.services import session_soft_delete

    client = AgentOSClient(agentos.base_url)
    run(client.create_session(session_id="to-delete", headers=agentos.alice))
    session_soft_delete(session=AgentSession.objects.get(session_id="to-delete"), by=alice)

    async def calls():
        listed = await client.get_sessions(headers=agentos.alice)
        try:
            await client.get_session("to-delete", headers=agentos.alice)
        except httpx.HTTPStatusError as error:
            return listed, error.response.status_code
        return listed, 200

    listed, status = run(calls())
    assert listed.data == [] and listed.meta.total_count == 0 and status == 404


def test_what_the_app_does_not_store_is_refused_not_dropped(agentos):
    client = AgentOSClient(agentos.base_url)
    made = run(client.create_session(headers=agentos.alice))

    async def calls():
        responses = []
        for call in (
            client.update_session(made.session_id, metadata={"plan": "gold"}, headers=agentos.alice),
            client.run_agent("agent", "hi", headers=agentos.alice, session_state={"x": 1}),
        ):
            try:
                await call
            except httpx.HTTPStatusError as error:
                responses.append((error.response.status_code, str(error.response.json()["detail"])))
        return responses

    (metadata, metadata_detail), (state, state_detail) = run(calls())
    assert metadata == 422 and "metadata" in metadata_detail
    assert state == 422 and "session_state" in state_detail
