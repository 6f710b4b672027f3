"""Runs started at the same moment on one session: all stored, each in one piece, history in order."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from agentapp.agent import Agent
from agentapp.db import DjangoDb
from sessions_app.models import AgentSession, Message, Run
from tests.fake_openai import RecordedRequest, Reply

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = 4


def _responder(request: RecordedRequest) -> Reply:
    """Each run asks for a tool, then answers after its result; slow enough that the runs overlap."""
    messages = request.body["messages"]
    last = messages[-1]
    if last["role"] == "tool":
        question = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        return Reply(text=f"answer to {question}", chunk_delay=0.02)
    if last["content"].startswith("question"):
        return Reply(tool_calls=[("check", {"topic": last["content"]})], delay=0.2)
    return Reply(text="the history is in order")


def _agent(make_model) -> Agent:
    def check(topic: str) -> str:
        """Look a topic up."""
        return f"checked {topic}"

    return Agent(
        model=make_model("chat"),
        db=DjangoDb(),
        tools=[check],
        add_history_to_context=True,
        num_history_runs=10,
    )


def _run_at_once(agent: Agent, *, stream: bool) -> list[BaseException]:
    barrier = threading.Barrier(RUNS)
    failures: list[BaseException] = []

    def one(number: int) -> None:
        try:
            barrier.wait()
            message = f"question {number}"
            if stream:
                list(
                    agent.run(message, user_id="sarah", session_id="shared", stream=True, stream_events=True)
                )
            else:
                agent.run(message, user_id="sarah", session_id="shared")
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


@pytest.mark.parametrize("stream", [False, True])
def test_runs_started_at_once_on_one_session_are_all_stored_each_in_one_piece(
    make_model, fake_openai, stream
):
    fake_openai.responder = _responder
    agent = _agent(make_model)

    assert _run_at_once(agent, stream=stream) == []

    session = AgentSession.objects.get(session_id="shared")  # one session, though all raced to create it
    runs = list(Run.objects.filter(session=session).order_by("id"))
    assert len(runs) == RUNS and {r.status for r in runs} == {"completed"}
    assert sorted(r.content for r in runs) == sorted(f"answer to question {n}" for n in range(RUNS))
    for run in runs:
        rows = list(Message.objects.filter(run=run).order_by("position"))
        assert [m.position for m in rows] == list(range(len(rows)))  # contiguous, nothing missing
        assert [m.role for m in rows] == ["user", "assistant", "tool", "assistant"]
        assert rows[0].content == run.input and rows[-1].content == f"answer to {run.input}"
        assert rows[2].content == f"checked {run.input}"

    # The next run sees every earlier turn, oldest first, each question followed by its own answer.
    output = agent.run("what did I ask?", user_id="sarah", session_id="shared")
    assert output.content == "the history is in order"
    history = [
        (m["role"], m["content"])
        for m in fake_openai.requests[-1].body["messages"][1:-1]
        if m["role"] in ("user", "assistant") and m.get("content")
    ]
    expected = []
    for run in runs:
        expected += [("user", run.input), ("assistant", f"answer to {run.input}")]
    assert history == expected
