"""Each event our runs stream, as the /os/ stream sends it, is read by Agno's own parser into the
event class of its name; the events Agno has no class for are left out rather than logged as errors."""

from __future__ import annotations

import pytest
from agno.run.agent import run_output_event_from_dict

from agentapp.agent import events as ours
from agentos_app.stream import agno_event

OUTPUT = ours.RunOutput(
    content="All done.",
    run_id="run_1",
    session_id="ses_1",
    user_id="alice",
    status="completed",
    metrics=ours.RunMetrics(input_tokens=3, output_tokens=2, total_tokens=5),
)
EVENTS = [
    ours.RunStarted(run_id="run_1", session_id="ses_1", user_id="alice"),
    ours.RunContent(run_id="run_1", content="All "),
    ours.ToolCallStarted(
        run_id="run_1", tool_call_id="c1", tool_name="add_memory", tool_args='{"memory": "x"}'
    ),
    ours.ToolCallCompleted(
        run_id="run_1", tool_call_id="c1", tool_name="add_memory", result="ok", is_error=False
    ),
    ours.MemoryUpdateStarted(run_id="run_1"),
    ours.MemoryUpdateCompleted(run_id="run_1", changes=1),
    ours.SessionSummaryStarted(run_id="run_1"),
    ours.SessionSummaryCompleted(run_id="run_1", session_summary="They talked."),
    ours.RunCompleted(run_id="run_1", output=OUTPUT),
    ours.RunError(run_id="run_1", error="the model is away", output=OUTPUT),
    ours.RunCancelled(run_id="run_1", output=OUTPUT),
]


def _agno(event):
    payload = agno_event(
        event.event, ours.event_payload(event), session_id="ses_1", agent_id="agent", agent_name="agent"
    )
    return None if payload is None else run_output_event_from_dict(payload)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event)
def test_agnos_parser_reads_each_event_as_its_class(event):
    parsed = _agno(event)
    assert type(parsed).__name__ == f"{event.event}Event"
    assert parsed.run_id == "run_1" and parsed.session_id == "ses_1" and parsed.agent_id == "agent"


def test_the_payloads_carry_what_agnos_readers_use():
    started, completed = _agno(EVENTS[2]), _agno(EVENTS[3])
    assert started.tool.tool_name == "add_memory" and started.tool.tool_args == {"memory": "x"}
    assert completed.tool.result == "ok" and completed.tool.tool_call_error is False
    done = _agno(EVENTS[8])
    assert done.content == "All done." and done.metrics.total_tokens == 5
    assert _agno(EVENTS[9]).content == "the model is away"


def test_events_agno_has_no_class_for_are_left_out():
    memory = ours.MemoryUpdated(run_id="run_1", action="create", memory_id="m1", memory="x")
    assert (
        agno_event(memory.event, ours.event_payload(memory), session_id="s", agent_id="a", agent_name="a")
        is None
    )
    assert (
        agno_event("ModelRetrying", {"run_id": "run_1"}, session_id="s", agent_id="a", agent_name="a") is None
    )
