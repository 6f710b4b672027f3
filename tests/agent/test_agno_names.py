"""Agno's names where an Agno user imports them (issue 31, items 1-3): `SessionType`, `RunStatus`
with Agno's upper-case values, `Message`, the memory module's strategies, `Toolkit` and `tool`,
`pprint_run_response`, `BaseDb` / `AsyncBaseDb`. Ported in our words from Agno's unit tests of
`agno.run.base`, `agno.db.base` and `agno.utils.pprint`."""

from __future__ import annotations

import io
import json

import pytest

import agentapp.agent as ours
from agentapp.agent import InMemoryDb, RunStatus, SessionType
from agentapp.agent.events import event_payload
from agentapp.agent.memory import (
    MemoryManager,
    MemoryOptimizationStrategy,
    MemoryOptimizationStrategyType,
    SummarizeStrategy,
    UserMemory,
)
from agentapp.db import DjangoDb


def test_run_status_has_agnos_names_and_upper_case_values():
    agno = pytest.importorskip("agno.run.base")

    assert {m.name: m.value for m in RunStatus} == {
        m.name: m.value for m in agno.RunStatus if m.name != "regenerated"
    }
    assert RunStatus.completed.value == "COMPLETED"
    assert RunStatus("COMPLETED") is RunStatus.completed


def test_a_status_equals_its_word_in_either_case_and_the_storage_keeps_lowercase():
    assert RunStatus("completed") is RunStatus.completed  # the storage's word
    assert RunStatus.completed == "completed"
    assert "completed" == RunStatus.completed  # noqa: SIM300 - the word on the left, as storage code has it
    assert RunStatus.completed == "COMPLETED" and RunStatus.completed != "error"
    assert RunStatus.error in {"error", "cancelled"}  # a set of the storage's words finds it
    assert f"[{RunStatus.cancelled}]" == "[cancelled]" and RunStatus.cancelled.stored == "cancelled"


def test_a_completed_runs_status_is_agnos_enum_and_still_the_word(agent_on, fake_openai):
    fake_openai.reply(text="Hello.")
    agent = agent_on()

    output = agent.run("Hi", user_id="sarah", session_id="s1")

    assert output.status is RunStatus.completed
    assert output.status == RunStatus.completed and output.status == "completed"
    stored = agent.get_session("s1").runs[0]
    assert stored.status is RunStatus.completed and stored.to_dict()["status"] == "COMPLETED"
    assert agent.get_run_output(output.run_id, session_id="s1").status == RunStatus.completed


def test_events_sent_to_the_app_keep_the_lowercase_word(agent_on, fake_openai):
    fake_openai.reply(text="Hello.")
    events = list(agent_on().run("Hi", user_id="sarah", stream=True, stream_events=True))

    completed = next(e for e in events if e.event == "RunCompleted")
    assert json.loads(json.dumps(event_payload(completed)))["output"]["status"] == "completed"


def test_session_type_has_agnos_values():
    agno = pytest.importorskip("agno.db.base")

    assert {m.name: m.value for m in SessionType} == {m.name: m.value for m in agno.SessionType}
    assert SessionType("agent") is SessionType.AGENT


def test_agnos_names_are_importable_from_where_an_agno_user_looks():
    for name in (
        "AgentSession",
        "RunStatus",
        "SessionType",
        "Message",
        "Toolkit",
        "tool",
        "pprint_run_response",
        "BaseDb",
        "AsyncBaseDb",
        "SummarizeStrategy",
        "SessionSummaryResponse",
    ):
        assert name in ours.__all__ and getattr(ours, name) is not None
    assert MemoryOptimizationStrategyType("summarize") is MemoryOptimizationStrategyType.SUMMARIZE
    assert isinstance(SummarizeStrategy(), MemoryOptimizationStrategy)
    assert MemoryManager is ours.MemoryManager and UserMemory is ours.UserMemory
    message = ours.Message(role="user", content="hi")
    assert message.to_dict() == {"role": "user", "content": "hi"}


@pytest.mark.parametrize("storage_class", [DjangoDb, InMemoryDb])
def test_both_storages_are_agnos_base_db_types(storage_class):
    # Agno's async tests type their storages as AsyncBaseDb; here one protocol serves both.
    assert ours.BaseDb is ours.AsyncBaseDb
    protocol_verbs = {
        "get_session",
        "upsert_session",
        "get_user_memories",
        "upsert_user_memory",
        "clear_memories",
    }
    assert all(callable(getattr(storage_class, verb)) for verb in protocol_verbs)


def test_pprint_run_response_prints_a_reply_and_a_stream(agent_on, fake_openai):
    fake_openai.reply(text="Tea is **lovely**.")
    fake_openai.reply(text="Coffee too.")
    agent = agent_on()
    out = io.StringIO()

    ours.pprint_run_response(agent.run("Tea?", user_id="sarah"), file=out)
    ours.pprint_run_response(agent.run("Coffee?", user_id="sarah", stream=True), file=out)

    assert out.getvalue() == "Tea is **lovely**.\nCoffee too.\n"


def test_pprint_run_response_says_a_failed_run_failed(agent_on, fake_openai):
    fake_openai.reply(status=401, error="invalid key")
    output = agent_on().run("Hi")
    out = io.StringIO()

    ours.pprint_run_response(output, file=out)

    assert output.status == RunStatus.error and out.getvalue().startswith("[error]")


def test_a_session_summary_is_built_with_agnos_keywords_and_from_its_dict():
    summary = ours.SessionSummary(summary="Planning a trip", topics=["travel"])

    assert (summary.summary, summary.topics, summary.session_id) == ("Planning a trip", ["travel"], "")
    again = ours.SessionSummary.from_dict({"summary": "Planning", "updated_at": "2026-01-02T03:04:05+00:00"})
    assert again.summary == "Planning" and again.updated_at.year == 2026


def test_a_run_output_has_agnos_dict(agent_on, fake_openai):
    fake_openai.reply(text="Hello.")

    data = agent_on().run("Hi", user_id="sarah", metadata={"source": "test"}).to_dict()

    assert (data["status"], data["content"], data["input"], data["metadata"]) == (
        "COMPLETED",
        "Hello.",
        "Hi",
        {"source": "test"},
    )
    reply = data["messages"][-1]
    assert {key: reply[key] for key in ("role", "content")} == {"role": "assistant", "content": "Hello."}
    assert reply["metrics"]["output_tokens"] > 0  # the request's cost, as Agno's message has it
    assert json.loads(json.dumps(data))["metrics"]["total_tokens"] > 0
