"""History as Agno replays it: each earlier turn with its tool calls and their results, the older
calls pruned past `max_tool_calls_from_history`, what a run stores (`store_tool_messages`,
`store_history_messages`), and `RunOutput.messages` / `.events` as Agno composes them."""

from __future__ import annotations

import pytest

from agentapp.agent import Agent, RunEvent
from agentapp.agent.session.history import replayed
from agentapp.llm.types import Message, ToolCall
from tests.fake_openai import Reply


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"{city}: 21 degrees, sunny"


def weather_turn(fake_openai, agent: Agent, city: str, **ids: str):
    fake_openai.reply(tool_calls=[("get_weather", {"city": city})])
    fake_openai.reply(text=f"It is sunny in {city}.")
    return agent.run(f"Weather in {city}?", **ids)


def sent_roles(body: dict) -> list[str]:
    return [m["role"] for m in body["messages"]]


def tool_results(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def test_history_replays_the_tool_calls_with_their_results(agent_on, fake_openai):
    agent = agent_on(tools=[get_weather], add_history_to_context=True)
    weather_turn(fake_openai, agent, "Lisbon", user_id="sarah", session_id="s")
    fake_openai.reply(text="Still sunny.")

    agent.run("And tomorrow?", user_id="sarah", session_id="s")

    body = fake_openai.requests[-1].body
    assert sent_roles(body) == ["system", "user", "assistant", "tool", "assistant", "user"]
    call = body["messages"][2]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert body["messages"][3] == {
        "role": "tool",
        "tool_call_id": call["id"],
        "content": "Lisbon: 21 degrees, sunny",
    }


@pytest.mark.django_db
def test_the_responses_api_gets_the_replayed_calls_as_function_call_items(make_model, fake_openai):
    from agentapp.db import DjangoDb

    agent = Agent(
        model=make_model("responses"), db=DjangoDb(), tools=[get_weather], add_history_to_context=True
    )
    weather_turn(fake_openai, agent, "Oslo", user_id="sarah", session_id="s")
    fake_openai.reply(text="Cold.")

    agent.run("And tomorrow?", user_id="sarah", session_id="s")

    items = fake_openai.requests[-1].body["input"]
    kinds = [item.get("type") or item["role"] for item in items]
    assert kinds == ["user", "function_call", "function_call_output", "assistant", "user"]
    assert items[1]["call_id"] == items[2]["call_id"]
    assert items[2]["output"] == "Oslo: 21 degrees, sunny"


def test_max_tool_calls_from_history_keeps_only_the_most_recent_calls(agent_on, fake_openai):
    agent = agent_on(
        tools=[get_weather], add_history_to_context=True, num_history_runs=None, max_tool_calls_from_history=2
    )
    for city in ("Lisbon", "Oslo", "Rome", "Cairo"):
        weather_turn(fake_openai, agent, city, user_id="sarah", session_id="s")
    fake_openai.reply(text="Done.")

    agent.run("Which was warmest?", user_id="sarah", session_id="s")

    body = fake_openai.requests[-1].body
    assert tool_results(body) == ["Rome: 21 degrees, sunny", "Cairo: 21 degrees, sunny"]
    calls = [c["function"]["arguments"] for m in body["messages"] for c in m.get("tool_calls") or []]
    assert calls == ['{"city": "Rome"}', '{"city": "Cairo"}']
    # Every turn is still there: only the older calls are pruned.
    said = [m["content"] for m in body["messages"] if m["role"] == "assistant" and m["content"]]
    assert said == [f"It is sunny in {c}." for c in ("Lisbon", "Oslo", "Rome", "Cairo")]
    # Storage keeps everything.
    stored = [m for m in agent.get_session_messages(session_id="s", user_id="sarah") if m.role == "tool"]
    assert len(stored) == 4


def test_store_tool_messages_off_stores_neither_the_calls_nor_their_results(agent_on, fake_openai):
    agent = agent_on(tools=[get_weather], add_history_to_context=True, store_tool_messages=False)
    output = weather_turn(fake_openai, agent, "Lisbon", user_id="sarah", session_id="s")

    stored = agent.get_session_messages(session_id="s", user_id="sarah")
    assert [(m.role, m.content) for m in stored] == [
        ("user", "Weather in Lisbon?"),
        ("assistant", "It is sunny in Lisbon."),
    ]
    # The run itself still reports what its tools did.
    assert [t.tool_name for t in output.tools] == ["get_weather"]
    fake_openai.reply(text="ok")
    agent.run("Thanks", user_id="sarah", session_id="s")
    assert sent_roles(fake_openai.requests[-1].body) == ["system", "user", "assistant", "user"]


def test_store_history_messages_keeps_marked_copies_that_are_never_replayed_twice(agent_on, fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = agent_on(add_history_to_context=True, num_history_runs=None, store_history_messages=True)
    agent.run("one", user_id="sarah", session_id="s")
    second = agent.run("two", user_id="sarah", session_id="s")
    agent.run("three", user_id="sarah", session_id="s")

    body = fake_openai.requests[-1].body
    assert [m["content"] for m in body["messages"][1:]] == ["one", "ok", "two", "ok", "three"]
    stored = agent.get_run_output(second.run_id, session_id="s", user_id="sarah")
    assert [(m.content, m.from_history) for m in stored.messages] == [
        ("one", True),
        ("ok", True),
        ("two", False),
        ("ok", False),
    ]
    assert [m.content for m in agent.get_chat_history(session_id="s", user_id="sarah")] == [
        "one",
        "ok",
        "two",
        "ok",
        "three",
        "ok",
    ]


def test_without_store_history_messages_a_run_stores_only_its_own_messages(agent_on, fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = agent_on(add_history_to_context=True)
    agent.run("one", user_id="sarah", session_id="s")
    second = agent.run("two", user_id="sarah", session_id="s")

    stored = agent.get_run_output(second.run_id, session_id="s", user_id="sarah")
    assert [m.content for m in stored.messages] == ["two", "ok"]


def test_run_output_messages_are_the_system_message_the_marked_history_and_the_new_turn(
    agent_on, fake_openai
):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = agent_on(add_history_to_context=True, instructions="Be brief.")
    agent.run("one", user_id="sarah", session_id="s")

    output = agent.run("two", user_id="sarah", session_id="s")

    assert [(m.role, m.content, m.from_history) for m in output.messages] == [
        ("system", "Be brief.", False),
        ("user", "one", True),
        ("assistant", "ok", True),
        ("user", "two", False),
        ("assistant", "ok", False),
    ]


def test_store_events_puts_every_event_but_the_content_chunks_on_the_output(agent_on, fake_openai):
    agent = agent_on(tools=[get_weather], store_events=True)

    output = weather_turn(fake_openai, agent, "Lisbon", user_id="sarah", session_id="s")

    assert [e.event for e in output.events] == [
        RunEvent.run_started,
        RunEvent.model_request_started,
        RunEvent.model_request_completed,
        RunEvent.tool_call_started,
        RunEvent.tool_call_completed,
        RunEvent.model_request_started,
        RunEvent.model_request_completed,
        RunEvent.run_content_completed,
        RunEvent.run_completed,
    ]
    assert output.events[3].tool.tool_args == '{"city": "Lisbon"}'


def test_without_store_events_the_output_has_no_events(agent_on, fake_openai):
    fake_openai.reply(text="ok")
    assert agent_on().run("hi", user_id="sarah", session_id="s").events is None


def test_a_message_count_cut_never_leaves_a_tool_result_without_its_call(agent_on, fake_openai):
    agent = agent_on(tools=[get_weather], add_history_to_context=True, num_history_messages=3)
    weather_turn(fake_openai, agent, "Lisbon", user_id="sarah", session_id="s")
    fake_openai.reply(text="ok")

    agent.run("And tomorrow?", user_id="sarah", session_id="s")

    # The last three stored messages are the call, its result and the reply: the call is kept whole.
    assert sent_roles(fake_openai.requests[-1].body) == ["system", "assistant", "tool", "assistant", "user"]


# --- the pruning itself -----------------------------------------------------------------------
def _exchange(n: int, *, text: str = "") -> list[Message]:
    call = ToolCall(f"c{n}", "f", "{}")
    return [
        Message(role="user", content=f"q{n}"),
        Message(role="assistant", content=text, tool_calls=(call,)),
        Message(role="tool", content=f"r{n}", tool_call_id=f"c{n}"),
        Message(role="assistant", content=f"a{n}"),
    ]


def test_pruning_drops_an_assistant_turn_that_only_made_the_pruned_calls():
    history = _exchange(1) + _exchange(2)
    kept = replayed(history, max_tool_calls=1)
    assert [m.content for m in kept] == ["q1", "a1", "q2", "", "r2", "a2"]
    assert all(m.from_history for m in kept)


def test_pruning_keeps_what_an_assistant_said_beside_a_pruned_call():
    kept = replayed(_exchange(1, text="Let me look.") + _exchange(2), max_tool_calls=1)
    assert [(m.content, len(m.tool_calls)) for m in kept][:3] == [("q1", 0), ("Let me look.", 0), ("a1", 0)]


def test_zero_tool_calls_from_history_replays_the_turns_only():
    kept = replayed(_exchange(1) + _exchange(2), max_tool_calls=0)
    assert [m.role for m in kept] == ["user", "assistant", "user", "assistant"]


def test_a_tool_result_whose_call_is_not_in_the_history_is_dropped():
    orphan = _exchange(1)[2:]
    assert [m.content for m in replayed(orphan)] == ["a1"]
