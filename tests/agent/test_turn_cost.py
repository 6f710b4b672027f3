"""The cost of a turn does not grow with the thread: a fixed number of bounded queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fake_openai import Reply

pytestmark = pytest.mark.django_db


def _queries_for_turn(agent, n: int) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        output = agent.run(f"message number {n}", user_id="alice", session_id="long-thread")
    assert output.status == "completed"
    return [q["sql"] for q in captured.captured_queries]


def test_turn_5_and_turn_50_make_the_same_number_of_queries(make_agent, fake_openai):
    fake_openai.responder = lambda request: Reply(text="ok")
    agent = make_agent(
        "chat",
        add_history_to_context=True,
        num_history_runs=3,
        enable_agentic_memory=True,
        enable_session_summaries=True,
    )
    counts = {}
    for turn in range(1, 51):
        if turn in (5, 50):
            counts[turn] = _queries_for_turn(agent, turn)
        else:
            agent.run(f"message number {turn}", user_id="alice", session_id="long-thread")

    assert len(counts[5]) == len(counts[50]), (counts[5], counts[50])


def test_history_is_the_last_n_runs_read_in_one_query(make_agent, fake_openai):
    fake_openai.responder = lambda request: Reply(text=f"reply {len(fake_openai.requests)}")
    agent = make_agent("chat", add_history_to_context=True, num_history_runs=2)
    for turn in range(1, 6):
        agent.run(f"turn {turn}", user_id="alice", session_id="t")

    messages = fake_openai.requests[-1].body["messages"]
    assert [m["content"] for m in messages[1:]] == ["turn 3", "reply 3", "turn 4", "reply 4", "turn 5"]


def test_num_history_messages_bounds_history_by_messages(make_agent, fake_openai):
    fake_openai.responder = lambda request: Reply(text="r")
    agent = make_agent("chat", add_history_to_context=True, num_history_messages=3)
    for turn in range(1, 5):
        agent.run(f"turn {turn}", user_id="alice", session_id="t")

    messages = fake_openai.requests[-1].body["messages"]
    assert [m["content"] for m in messages[1:]] == ["r", "turn 3", "r", "turn 4"]


def test_failed_runs_are_left_out_of_history(make_agent, fake_openai):
    fake_openai.reply(text="first reply")
    fake_openai.reply(status=500, error="down")
    fake_openai.reply(text="third reply")
    agent = make_agent("chat", add_history_to_context=True)
    for turn in range(1, 4):
        agent.run(f"turn {turn}", user_id="alice", session_id="t")

    sent = [m["content"] for m in fake_openai.requests[-1].body["messages"][1:]]
    assert sent == ["turn 1", "first reply", "turn 3"]


def test_without_history_only_the_new_message_is_sent(make_agent, fake_openai):
    fake_openai.responder = lambda request: Reply(text="r")
    agent = make_agent("chat", add_history_to_context=False)
    agent.run("one", user_id="alice", session_id="t")
    agent.run("two", user_id="alice", session_id="t")
    assert [m["role"] for m in fake_openai.requests[-1].body["messages"]] == ["system", "user"]
