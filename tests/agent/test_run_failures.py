"""A failed model call finishes the run as `error` with the reason; nothing the user said is lost."""

from __future__ import annotations

import pytest

from agentapp.agent import RunContent, RunError
from sessions_app.models import Message, Run, RunEvent

pytestmark = pytest.mark.django_db


def _assert_failed_but_kept(output, reason_part: str) -> Run:
    assert output.status == "error"
    assert reason_part in output.error
    run = Run.objects.get(run_id=output.run_id)
    assert run.status == "error"
    assert reason_part in run.error
    assert run.ended_at is not None
    assert Message.objects.filter(run=run, role="user").values_list("content", flat=True).get() == run.input
    assert RunEvent.objects.filter(run=run, kind="error").exists()
    return run


def test_a_server_error_fails_the_run_and_keeps_the_message(make_agent, adapter, fake_openai):
    fake_openai.reply(status=500, error="the model is on fire")
    output = make_agent(adapter).run("Hello there", user_id="alice", session_id="s1")
    _assert_failed_but_kept(output, "500")
    assert "the model is on fire" in output.error


def test_a_rate_limit_fails_the_run_with_the_reason(make_agent, fake_openai):
    fake_openai.reply(status=429, error="slow down", headers={"retry-after": "7"})
    output = make_agent("chat").run("Hello there", user_id="alice", session_id="s1")
    run = _assert_failed_but_kept(output, "429")
    event = RunEvent.objects.get(run=run, kind="error")
    assert event.payload["kind"] == "rate_limit"


def test_a_timeout_fails_the_run(make_agent, adapter, fake_openai):
    fake_openai.reply(text="too late", delay=1.5)
    agent = make_agent(adapter, model_kwargs={"timeout": 0.3})
    output = agent.run("Hello there", user_id="alice", session_id="s1")
    _assert_failed_but_kept(output, "timed out")


def test_a_refused_connection_fails_the_run(make_agent, fake_openai):
    agent = make_agent("responses")
    agent.model = type(agent.model)(
        id="gpt-test", base_url="http://127.0.0.1:9/v1", api_key="sk-x", max_retries=0
    )
    output = agent.run("Hello there", user_id="alice", session_id="s1")
    _assert_failed_but_kept(output, "connect")


def test_a_stream_cut_in_the_middle_keeps_the_streamed_text(make_agent, adapter, fake_openai):
    fake_openai.reply(text="one two three four five six", cut_after=2)
    events = list(
        make_agent(adapter).run("Count", user_id="alice", session_id="s1", stream=True, stream_events=True)
    )

    error = events[-1]
    assert isinstance(error, RunError)
    streamed = "".join(e.content for e in events if isinstance(e, RunContent))
    assert streamed.startswith("one")
    run = _assert_failed_but_kept(error.output, "")
    assert run.content == streamed
    assert Message.objects.filter(run=run, role="assistant", content=streamed).exists()


def test_the_api_key_never_appears_in_a_stored_error(make_agent, fake_openai):
    fake_openai.reply(status=401, error="invalid key")
    output = make_agent("chat").run("Hello", user_id="alice", session_id="s1")
    assert output.status == "error"
    run = Run.objects.get(run_id=output.run_id)
    stored = run.error + str(list(RunEvent.objects.filter(run=run).values_list("payload", flat=True)))
    assert "sk-test-secret-123" not in stored


def test_a_failing_tool_is_reported_to_the_model_and_the_run_goes_on(make_agent, fake_openai):
    def explode(x: str) -> str:
        """Always fails."""
        raise RuntimeError("kaboom")

    fake_openai.reply(tool_calls=[("explode", {"x": "1"})])
    fake_openai.reply(text="Sorry, that did not work.")
    output = make_agent("chat", tools=[explode]).run("Try it", user_id="alice", session_id="s1")

    assert output.status == "completed"
    tool_result = fake_openai.requests[1].body["messages"][-1]
    assert tool_result["role"] == "tool" and "kaboom" in tool_result["content"]
    assert RunEvent.objects.get(kind="tool_call").payload["is_error"] is True


def test_closing_the_stream_early_cancels_the_run_and_keeps_what_was_said(make_agent, fake_openai):
    fake_openai.reply(text="alpha beta gamma delta epsilon", chunk_delay=0.05)
    events = make_agent("chat").run("Talk", user_id="alice", session_id="s1", stream=True, stream_events=True)
    for event in events:
        if isinstance(event, RunContent):
            break
    events.close()

    run = Run.objects.get()
    assert run.status == "cancelled"
    assert run.content.startswith("alpha")
    assert Message.objects.filter(run=run, role="user").exists()


@pytest.mark.parametrize("stream", [False, True])
def test_a_reply_with_a_nul_or_a_lone_surrogate_is_stored_and_the_run_ends(make_agent, fake_openai, stream):
    """Was: PostgreSQL refused the text, the run stayed `running` and the reply was lost."""
    fake_openai.reply(text="Hello\x00 there \ud800 friend")

    output = make_agent().run("hi", user_id="sarah", session_id="t", stream=stream, stream_events=stream)
    if stream:
        output = list(output)[-1].output

    assert output.status == "completed"
    run = Run.objects.get(run_id=output.run_id)
    assert run.status == "completed"
    assert run.content == "Hello\ufffd there \ufffd friend"
    assert run.messages.get(role="assistant").content == run.content
    run.events.get(kind="model_request")  # its payload (the same text) was stored too


def test_tool_arguments_with_a_nul_are_stored_with_the_run(make_agent, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Likes\x00 tea"})])
    fake_openai.reply(text="Noted.")

    output = make_agent(enable_agentic_memory=True).run("I like tea", user_id="sarah", session_id="t")

    assert output.status == "completed"
    assert [m.memory for m in make_agent().get_user_memories("sarah")] == ["Likes\ufffd tea"]
