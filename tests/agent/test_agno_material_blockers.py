"""What stopped the most of Agno's own tests and cookbook files first, as bench/agno_material.py
ranks them (issue 31), each ported here in our words."""

from __future__ import annotations

import pytest

import agentapp.agent as ours
from agentapp.agent import AgentSession, MemoryManager, Message, RunOutput, RunStatus, SessionSummaryManager
from agentapp.agent.memory import SummarizeStrategy, UserMemory


def test_run_context_comes_from_the_package_as_agnos_comes_from_agno_run():
    # Agno's tools and hooks are written `from agno.run import RunContext`; the swapped import is the
    # package's, the same class the run hands its tools.
    from agentapp.agent import RunContext
    from agentapp.agent.run_context import RunContext as where_it_lives

    assert RunContext is where_it_lives
    assert "RunContext" in ours.__all__


def test_a_tool_annotated_with_the_packages_run_context_changes_the_session_state(agent_on, fake_openai):
    from agentapp.agent import RunContext

    def add_item(run_context: RunContext, item: str) -> str:
        """Add an item to the shopping list."""
        run_context.session_state.setdefault("shopping_list", []).append(item)
        return f"added {item}"

    fake_openai.reply(tool_calls=[("add_item", {"item": "milk"})])
    fake_openai.reply(text="Added milk.")
    agent = agent_on(tools=[add_item], session_state={"shopping_list": []})

    output = agent.run("Add milk", user_id="sarah", session_id="groceries")

    assert output.content == "Added milk."
    assert agent.get_session_state(session_id="groceries") == {"shopping_list": ["milk"]}


def test_a_memory_manager_without_an_id_gets_one_of_its_own():
    first, second = MemoryManager(), MemoryManager()

    assert first.id.startswith("memory_manager_") and second.id.startswith("memory_manager_")
    assert first.id != second.id
    assert first.id == first.id and first.name is None
    named = MemoryManager(id="facts", name="Facts")
    assert (named.id, named.name) == ("facts", "Facts")


def test_a_session_summary_manager_has_an_id_and_a_name_as_agnos_does():
    first, second = SessionSummaryManager(last_n_runs=10), SessionSummaryManager(conversation_limit=50)

    assert first.id.startswith("session_summary_manager_") and first.id != second.id
    assert first.name is None
    named = SessionSummaryManager(id="concise", name="Concise summary")
    assert (named.id, named.name) == ("concise", "Concise summary")
    with pytest.raises(ValueError):
        SessionSummaryManager(id="bad", last_n_runs=0)


def test_the_summarize_strategy_counts_the_tokens_of_memories_as_agnos_does():
    # Agno's cookbook prints the count before and after optimising; without a tokenizer Agno
    # estimates four characters a token, as this does.
    strategy = SummarizeStrategy()
    memories = [UserMemory(memory="a" * 40, user_id="sarah"), UserMemory(memory="b" * 8, user_id="sarah")]

    assert strategy.count_tokens(memories) == 10 + 2
    assert strategy.count_tokens([]) == 0


def _run(run_id: str, said: str, *, agent_id: str | None = None):
    return RunOutput(
        run_id=run_id,
        agent_id=agent_id,
        status=RunStatus.completed,
        messages=[Message(role="user", content=said), Message(role="assistant", content=f"re: {said}")],
    )


def test_upserting_a_run_on_a_session_record_adds_it_or_replaces_the_one_with_its_id():
    session = AgentSession(session_id="thread-1", agent_id="helper")

    session.upsert_run(_run("r1", "first"))
    session.upsert_run(_run("r2", "second"))
    session.upsert_run(_run("r1", "first, edited"))

    assert [run.run_id for run in session.runs] == ["r1", "r2"]
    assert session.get_run("r1").messages[0].content == "first, edited"
    assert [m.content for m in session.get_messages(last_n_runs=1)] == ["second", "re: second"]


def test_a_session_records_messages_can_be_narrowed_to_one_agents_runs():
    session = AgentSession(session_id="thread-1", agent_id="helper")
    session.upsert_run(_run("r1", "to the helper"))  # no agent_id of its own: the session's agent's
    session.upsert_run(_run("r2", "to the other", agent_id="other"))

    assert [m.content for m in session.get_messages(agent_id="other")] == ["to the other", "re: to the other"]
    assert [m.content for m in session.get_messages(agent_id="helper", skip_roles=["assistant"])] == [
        "to the helper"
    ]
    assert session.get_messages(team_id="a-team") == []  # no run here is a team's
