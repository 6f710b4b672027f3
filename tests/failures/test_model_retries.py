"""Model failures: retried where nothing was said yet (with backoff and a cap), otherwise an `error` run."""

from __future__ import annotations

import asyncio
import time

import pytest

from agentapp.agent import Agent, InMemoryDb
from sessions_app.models import Message, Run, RunEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("stream", [False, True])
def test_a_500_is_retried_and_the_run_completes(make_agent, fake_openai, adapter, stream):
    fake_openai.reply(status=500, error="overloaded")
    fake_openai.reply(text="Here you go.")
    agent = make_agent(adapter, model_kwargs={"max_retries": 2})

    output = _run(agent, "Hello", stream=stream)

    assert output.status == "completed" and output.content == "Here you go."
    assert len(fake_openai.requests) == 2


def test_a_429_is_retried_after_the_time_the_server_asks_for(make_agent, fake_openai, adapter):
    fake_openai.reply(status=429, error="slow down", headers={"retry-after": "0"})
    fake_openai.reply(text="Thanks for waiting.")
    agent = make_agent(adapter, model_kwargs={"max_retries": 2})

    output = _run(agent, "Hello", stream=True)

    assert output.status == "completed" and output.content == "Thanks for waiting."
    assert len(fake_openai.requests) == 2


def test_retries_stop_at_the_cap_and_the_run_ends_error_with_the_reason(make_agent, fake_openai, adapter):
    for _ in range(4):
        fake_openai.reply(status=503, error="still overloaded")
    agent = make_agent(adapter, model_kwargs={"max_retries": 2})

    output = _run(agent, "Hello", stream=True)

    assert len(fake_openai.requests) == 3  # the first try and two retries, then no more
    assert output.status == "error" and "HTTP 503" in output.error
    run = Run.objects.get(run_id=output.run_id)
    assert run.status == "error" and "still overloaded" in run.error
    assert Message.objects.get(run=run).content == "Hello"  # the user's message is kept


def test_a_stream_cut_after_text_arrived_is_not_retried_and_the_text_is_kept(
    make_agent, fake_openai, adapter
):
    fake_openai.reply(text="The first part of a long answer that never", cut_after=4)
    fake_openai.reply(text="A second answer that must not be asked for.")
    agent = make_agent(adapter, model_kwargs={"max_retries": 2})

    output = _run(agent, "Tell me a story", stream=True)

    assert len(fake_openai.requests) == 1  # text was already shown: asking again would repeat it
    assert output.status == "error"
    run = Run.objects.get(run_id=output.run_id)
    assert run.status == "error" and run.error
    assert run.content and "The first part of a long answer that never".startswith(run.content)
    rows = list(Message.objects.filter(run=run).order_by("position").values_list("role", "content"))
    assert rows[0] == ("user", "Tell me a story")
    assert rows[1] == ("assistant", run.content)
    assert RunEvent.objects.filter(run=run, kind="error").exists()


def test_the_timeout_is_a_deadline_for_the_whole_request_retries_included(make_agent, fake_openai, adapter):
    for _ in range(3):
        fake_openai.reply(text="too late", delay=1.0)
    agent = make_agent(adapter, model_kwargs={"max_retries": 2, "timeout": 0.5})

    started = time.monotonic()
    output = _run(agent, "Hello", stream=True)
    waited = time.monotonic() - started

    # The SDK's own retries gave each attempt the whole timeout: three of them and the backoff between
    # (2.6 s at the least). Now the one attempt takes the deadline and no time is left for another.
    assert len(fake_openai.requests) == 1
    assert waited < 2.0, waited
    assert output.status == "error" and "timed out" in output.error
    assert Run.objects.get(run_id=output.run_id).messages.get().content == "Hello"


def test_a_retry_that_would_pass_the_deadline_is_not_made(make_agent, fake_openai, adapter):
    fake_openai.reply(status=429, error="slow down", headers={"retry-after": "5"})
    fake_openai.reply(text="Never asked for.")
    agent = make_agent(adapter, model_kwargs={"max_retries": 2, "timeout": 1.0})

    started = time.monotonic()
    output = _run(agent, "Hello", stream=True)

    assert time.monotonic() - started < 3.0  # the server asked for 5 s
    assert len(fake_openai.requests) == 1
    assert output.status == "error" and "HTTP 429" in output.error


def test_a_failed_attempt_with_time_left_is_retried_within_the_deadline(make_agent, fake_openai, adapter):
    fake_openai.reply(status=502, error="bad gateway")
    fake_openai.reply(text="Second time lucky.")
    agent = make_agent(adapter, model_kwargs={"max_retries": 2, "timeout": 5.0})

    output = _run(agent, "Hello", stream=True)

    assert output.status == "completed" and output.content == "Second time lucky."
    assert len(fake_openai.requests) == 2


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_retry_is_told_in_the_stream_before_the_reply(
    make_agent, make_model, fake_openai, adapter, asynchronous
):
    fake_openai.reply(status=503, error="overloaded")
    fake_openai.reply(text="Here I am.")

    if asynchronous:  # on InMemoryDb: a DjangoDb run in asyncio.run() keeps a connection past the test
        agent = Agent(model=make_model(adapter, max_retries=2), db=InMemoryDb())

        async def collect():
            stream = await agent.arun(
                "Hello", user_id="sarah", session_id="s", stream=True, stream_events=True
            )
            return [event async for event in stream]

        events = asyncio.run(collect())
    else:
        agent = make_agent(adapter, model_kwargs={"max_retries": 2})
        events = list(agent.run("Hello", user_id="sarah", session_id="s", stream=True, stream_events=True))

    names = [event.event for event in events]
    assert "ModelRetrying" in names and names.index("ModelRetrying") < names.index("RunContent")
    retrying = events[names.index("ModelRetrying")]
    assert (retrying.attempt, retrying.attempts) == (2, 3)
    assert "HTTP 503" in retrying.reason and retrying.delay >= 0
    assert events[-1].output.content == "Here I am."


def test_a_plain_stream_does_not_show_the_retry(make_agent, fake_openai):
    fake_openai.reply(status=500, error="overloaded")
    fake_openai.reply(text="Fine.")
    agent = make_agent("chat", model_kwargs={"max_retries": 1})

    events = list(agent.run("Hello", user_id="sarah", session_id="s", stream=True))

    assert {event.event for event in events} == {"RunContent"}


def _run(agent, message: str, *, stream: bool):
    if not stream:
        return agent.run(message, user_id="sarah", session_id="s")
    events = list(agent.run(message, user_id="sarah", session_id="s", stream=True, stream_events=True))
    return events[-1].output
