"""`run()`'s per-run keywords and `print_response` taking them too (issue 31, item 7):
`add_history_to_context`, `add_session_state_to_context`, `dependencies`, `metadata`,
`session_state`. Ported in our words from Agno's agent tests of run-level overrides, on both
storages."""

from __future__ import annotations

import io

from agentapp.agent.run_context import RunContext

SEEN: list[tuple[dict | None, dict | None]] = []


def whats_in_context(run_context: RunContext) -> str:
    """Report what the run was given."""
    SEEN.append((run_context.dependencies, run_context.metadata))
    return "seen"


def _sent(fake_openai, request: int = -1) -> list[tuple[str, str]]:
    return [(m["role"], m.get("content") or "") for m in fake_openai.requests[request].body["messages"]]


def test_history_is_added_for_one_run_only_when_that_run_asks(agent_on, fake_openai):
    for text in ("Hello Sarah.", "You are Sarah.", "Who?"):
        fake_openai.reply(text=text)
    agent = agent_on(user_id="sarah", session_id="h")  # history off, Agno's default

    agent.run("I am Sarah")
    agent.run("Who am I?", add_history_to_context=True)
    agent.run("Who am I, again?")

    assert ("assistant", "Hello Sarah.") in _sent(fake_openai, 1)
    assert ("assistant", "Hello Sarah.") not in _sent(fake_openai, 2)
    assert agent.add_history_to_context is False


def test_session_state_goes_into_the_context_when_the_run_asks(agent_on, fake_openai):
    fake_openai.reply(text="Porto.")
    fake_openai.reply(text="?")
    agent = agent_on(user_id="sarah", session_id="st")

    agent.run("Where am I?", session_state={"city": "Porto"}, add_session_state_to_context=True)
    agent.run("And now?")

    assert "Porto" in _sent(fake_openai, 0)[0][1]
    assert "Porto" not in _sent(fake_openai, 1)[0][1]


def test_dependencies_and_metadata_reach_the_tools_and_metadata_comes_back(agent_on, fake_openai):
    SEEN.clear()
    fake_openai.reply(tool_calls=[("whats_in_context", {})])
    fake_openai.reply(text="Done.")
    agent = agent_on(tools=[whats_in_context])

    output = agent.run("Check", user_id="sarah", dependencies={"db_url": "x"}, metadata={"source": "cli"})

    assert SEEN == [({"db_url": "x"}, {"source": "cli"})]
    assert output.metadata == {"source": "cli"}


def test_print_response_takes_runs_keywords(agent_on, fake_openai):
    fake_openai.reply(text="You are in Porto.")
    fake_openai.reply(text="Still Porto.")
    agent = agent_on(user_id="sarah", session_id="p", add_session_state_to_context=True)
    out = io.StringIO()

    first = agent.print_response("Where am I?", session_state={"city": "Porto"}, metadata={"a": 1}, file=out)
    agent.print_response("Still?", stream=True, stream_events=True, file=out)

    assert out.getvalue() == "You are in Porto.\nStill Porto.\n"
    assert first.metadata == {"a": 1} and agent.get_session_state() == {"city": "Porto"}
    assert "Porto" in _sent(fake_openai, 0)[0][1]
