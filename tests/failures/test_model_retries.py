"""Model failures: retried where nothing was said yet (with backoff and a cap), otherwise an `error` run."""

from __future__ import annotations

import pytest

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


def test_a_timeout_is_retried_then_ends_error_when_the_model_stays_silent(make_agent, fake_openai):
    fake_openai.reply(text="too late", delay=1.0)
    fake_openai.reply(text="too late again", delay=1.0)
    agent = make_agent("chat", model_kwargs={"max_retries": 1, "timeout": 0.3})

    output = _run(agent, "Hello", stream=True)

    assert len(fake_openai.requests) == 2
    assert output.status == "error" and "timed out" in output.error
    assert Run.objects.get(run_id=output.run_id).messages.get().content == "Hello"


def _run(agent, message: str, *, stream: bool):
    if not stream:
        return agent.run(message, user_id="sarah", session_id="s")
    events = list(agent.run(message, user_id="sarah", session_id="s", stream=True, stream_events=True))
    return events[-1].output
