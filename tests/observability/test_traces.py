"""OpenTelemetry traces of a run, received over OTLP/HTTP by a loopback receiver and decoded."""

from __future__ import annotations

import pytest

from agentapp.agent.telemetry import CAPTURE_CONTENT_ENV
from sessions_app.models import Run, RunEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

STATUS_ERROR = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR
KIND_CLIENT = 3


def _run_span(receiver, run_id: str):
    spans = [s for s in receiver.named("invoke_agent") if s.attributes.get("agentapp.run_id") == run_id]
    assert len(spans) == 1, [s.name for s in receiver.spans]
    return spans[0]


def test_a_run_is_one_trace_with_its_context_model_requests_tool_call_and_memory_write(
    tracing, make_agent, fake_openai
):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User likes jazz"})])
    fake_openai.reply(text="Noted: jazz.")
    output = make_agent("chat", enable_agentic_memory=True).run(
        "I like jazz", user_id="sarah", session_id="s1"
    )
    assert tracing.flush()

    run = _run_span(tracing, output.run_id)
    spans = tracing.in_trace(run.trace_id)
    by_name = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    assert run.parent_span_id == ""
    assert run.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert run.attributes["agentapp.session_id"] == "s1" and run.attributes["agentapp.user_id"] == "sarah"
    assert run.attributes["agentapp.run.status"] == "completed"
    assert run.service == "agentapp"

    (context,) = by_name["assemble_context"]
    (retrieval,) = by_name["retrieve_memories"]
    assert context.parent_span_id == run.span_id and retrieval.parent_span_id == context.span_id
    assert retrieval.attributes["agentapp.memory.count"] == 0

    chats = sorted(by_name["chat gpt-test"], key=lambda s: s.attributes["agentapp.round"])
    assert len(chats) == 2 and all(s.parent_span_id == run.span_id and s.kind == KIND_CLIENT for s in chats)
    first, second = chats
    assert first.attributes["gen_ai.system"] == "openai"
    assert first.attributes["gen_ai.operation.name"] == "chat"
    assert first.attributes["gen_ai.request.model"] == "gpt-test"
    assert first.attributes["gen_ai.response.model"]
    assert first.attributes["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert second.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert (
        first.attributes["gen_ai.usage.input_tokens"] > 0
        and second.attributes["gen_ai.usage.output_tokens"] > 0
    )
    assert not any(key.startswith("gen_ai.input") for s in chats for key in s.attributes)  # not opted in

    (tool,) = by_name["execute_tool add_memory"]
    assert tool.parent_span_id == run.span_id and tool.attributes["gen_ai.tool.name"] == "add_memory"
    assert "gen_ai.tool.call.arguments" not in tool.attributes
    (write,) = by_name["memory create"]
    assert write.parent_span_id == tool.span_id
    memory_id = write.attributes["agentapp.memory.id"]

    # The next run's context holds that memory: its retrieval says how many and which.
    fake_openai.reply(text="You like jazz.")
    again = make_agent("chat", enable_agentic_memory=True).run(
        "What do I like?", user_id="sarah", session_id="s1"
    )
    assert tracing.flush()
    second_run = _run_span(tracing, again.run_id)
    assert second_run.trace_id != run.trace_id
    (retrieval,) = tracing.named("retrieve_memories", second_run.trace_id)
    assert retrieval.attributes["agentapp.memory.count"] == 1
    assert retrieval.attributes["agentapp.memory.ids"] == [memory_id]


def test_message_content_goes_into_spans_only_when_the_operator_opts_in(
    tracing, make_agent, fake_openai, monkeypatch
):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    fake_openai.reply(text="Lisbon is lovely in May.")
    output = make_agent("chat").run("Lisbon in May?", user_id="sarah", session_id="trip")
    assert tracing.flush()
    (chat,) = tracing.named("chat ", _run_span(tracing, output.run_id).trace_id)
    assert "Lisbon in May?" in chat.attributes["gen_ai.input.messages"]
    assert "lovely in May" in chat.attributes["gen_ai.output.messages"]


def test_a_failed_model_request_is_an_error_span_with_its_kind(tracing, make_agent, fake_openai):
    fake_openai.reply(status=500, error="upstream exploded")
    output = make_agent("chat").run("hello", user_id="sarah", session_id="boom")
    assert output.status == "error"
    assert tracing.flush()
    run = _run_span(tracing, output.run_id)
    (chat,) = tracing.named("chat ", run.trace_id)
    assert chat.status_code == STATUS_ERROR and chat.attributes["error.type"] == "server"
    assert run.status_code == STATUS_ERROR and run.attributes["agentapp.run.status"] == "error"


def test_the_run_page_shows_the_trace_id_to_its_owner_only(
    tracing, make_agent, fake_openai, client, alice, bob, settings
):
    fake_openai.reply(text="Hi Alice.")
    output = make_agent("chat").run("hello", user_id="alice", session_id="hello-alice")
    assert tracing.flush()
    trace_id = _run_span(tracing, output.run_id).trace_id
    context = RunEvent.objects.get(run__run_id=output.run_id, kind="context")
    assert context.payload["trace_id"] == trace_id

    client.login(username="alice", password=PASSWORD)
    page = client.get(f"/runs/{output.run_id}/").content.decode()
    assert f'<dd id="run-trace-id"><code>{trace_id}</code></dd>' in page
    settings.AGENT_TRACE_URL = "http://jaeger.internal:16686/trace/{trace_id}"
    page = client.get(f"/runs/{output.run_id}/").content.decode()
    link = f'<a href="http://jaeger.internal:16686/trace/{trace_id}" rel="noopener" target="_blank">open</a>'
    assert link in page
    client.login(username="bob", password=PASSWORD)
    assert client.get(f"/runs/{output.run_id}/").status_code == 404
    client.logout()
    assert client.get(f"/runs/{output.run_id}/").status_code == 302


def test_with_tracing_off_a_run_records_no_trace_id(make_agent, fake_openai, client, alice):
    fake_openai.reply(text="Hi.")
    output = make_agent("chat").run("hello", user_id="alice", session_id="untraced")
    context = RunEvent.objects.get(run__run_id=output.run_id, kind="context")
    assert "trace_id" not in context.payload
    client.login(username="alice", password=PASSWORD)
    assert 'id="run-trace-id"' not in client.get(f"/runs/{output.run_id}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_streamed_api_run_served_by_the_asgi_app_is_traced_too(tracing, asgi_server, app_model, alice):
    import httpx

    from apikeys.services import apikey_create

    token = apikey_create(user=alice, name="traced")[1]
    app_model.reply(text="Streamed and traced.")
    with httpx.Client(base_url=asgi_server, timeout=20) as http:
        response = http.post(
            "/api/runs",
            json={"message": "hi", "session_id": "traced-stream", "stream": True},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200 and "event: done" in response.text
    run_id = Run.objects.get(session__session_id="traced-stream").run_id
    assert tracing.flush()
    run = _run_span(tracing, run_id)
    assert run.attributes["agentapp.run.status"] == "completed"
    assert {s.name for s in tracing.in_trace(run.trace_id)} >= {"assemble_context", "chat gpt-test"}


@pytest.mark.parametrize(
    ("environment", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_set_up_only_when_the_standard_variables_ask(monkeypatch, environment, wanted):
    from agentapp.observability.tracing import tracing_requested

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert tracing_requested() is wanted
