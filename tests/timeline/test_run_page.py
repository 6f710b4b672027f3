"""/runs/<run_id>/ and its context view, built from real runs against the loopback model server."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from memory_app.models import Memory
from sessions_app.models import Run, RunEvent
from sessions_app.timeline import layout as timeline
from tests.fake_openai import MEMORY_MANAGER_LANE

pytestmark = pytest.mark.django_db

ROW = re.compile(
    r'<li class="tl-row kind-(\w+)[^"]*" id="event-(\d+)" data-kind="(\w+)" data-duration-ms="(\d*)"'
)


def _rows(body: str) -> list[tuple[str, int, str, str]]:
    return [(kind, int(pk), data_kind, ms) for kind, pk, data_kind, ms in ROW.findall(body)]


def test_the_run_page_shows_both_model_requests_and_the_tool_call_in_order_with_durations(
    client, alice, tool_run
):
    client.force_login(alice)
    body = client.get(f"/runs/{tool_run.run_id}/").content.decode()

    steps = [(kind, ms) for kind, _, _, ms in _rows(body) if kind in ("model_request", "tool_call")]
    assert [kind for kind, _ in steps] == ["model_request", "tool_call", "model_request"]
    events = RunEvent.objects.filter(run=tool_run, kind__in=["model_request", "tool_call"]).order_by(
        "started_at"
    )
    assert [int(ms) for _, ms in steps] == [e.duration_ms for e in events]
    assert int(steps[0][1]) >= 50 and int(steps[2][1]) >= 30  # the scripted delays
    for event in events:
        assert timeline.format_ms(event.duration_ms) in body
    assert "model request 1 · gpt-test" in body and "model request 2 · gpt-test" in body
    assert "tool · add_memory" in body


def test_every_recorded_event_has_a_row_with_a_bar_on_the_axis(client, alice, tool_run):
    client.force_login(alice)
    body = client.get(f"/runs/{tool_run.run_id}/").content.decode()
    rows = _rows(body)
    assert [pk for _, pk, _, _ in rows] == list(
        RunEvent.objects.filter(run=tool_run).order_by("started_at", "id").values_list("pk", flat=True)
    )
    assert [kind for kind, *_ in rows] == [
        "context",
        "model_request",
        "tool_call",
        "memory_update",
        "model_request",
    ]
    bars = re.findall(r'class="tl-bar" style="left:([\d.]+)%;width:([\d.]+)%"', body)
    assert len(bars) == len(rows)
    assert all(float(left) >= 0 and float(left) + float(width) <= 100.001 for left, width in bars)
    lefts = [float(left) for left, _ in bars]
    assert lefts == sorted(lefts)
    assert 'class="tl-ttft"' in body  # time to first token drawn inside each model request


def test_the_header_gives_status_model_user_timings_tokens_and_counts(client, alice, tool_run):
    client.force_login(alice)
    body = client.get(f"/runs/{tool_run.run_id}/").content.decode()
    assert '<span class="status status-completed" id="run-status">completed</span>' in body
    assert '<dd id="run-model-requests">2</dd>' in body and '<dd id="run-tool-calls">1</dd>' in body
    assert f'<dd id="run-tokens">{tool_run.input_tokens} / {tool_run.output_tokens}</dd>' in body
    assert f'<dd id="run-duration">{timeline.format_ms(tool_run.duration_ms)}</dd>' in body
    assert f'<dd id="run-ttft">{timeline.format_ms(tool_run.ttft_ms)}</dd>' in body
    assert "alice" in body and "gpt-test" in body and 'id="run-error"' not in body
    assert f'href="/sessions/{tool_run.session.session_id}/timeline/"' in body


def test_a_tool_calls_detail_has_its_arguments_and_result(client, alice, tool_run):
    client.force_login(alice)
    body = client.get(f"/runs/{tool_run.run_id}/").content.decode()
    memory = Memory.objects.get()
    assert "&quot;memory&quot;: &quot;User likes green tea&quot;" in body
    assert f'<pre class="tool-result">Stored memory {memory.memory_id}.</pre>' in body


def test_a_memory_writes_detail_has_before_and_after_and_links_to_its_history(
    client, alice, make_agent, fake_openai, tool_run
):
    memory = Memory.objects.get()
    fake_openai.reply(
        tool_calls=[("update_memory", {"memory_id": memory.memory_id, "memory": "User likes oolong tea"})]
    )
    fake_openai.reply(text="Updated.")
    output = make_agent("chat", enable_agentic_memory=True).run(
        "Actually oolong", user_id="alice", session_id="alice-thread"
    )
    client.force_login(alice)

    body = client.get(f"/runs/{output.run_id}/").content.decode()

    assert '<pre class="mem-before">User likes green tea\ntopics: drinks</pre>' in body
    assert '<pre class="mem-after">User likes oolong tea\ntopics: drinks</pre>' in body
    history = re.search(rf'<a href="([^"]+)" class="memory-history">{memory.memory_id}</a>', body).group(1)
    assert memory.memory_id in history
    page = client.get(history)
    assert page.status_code == 200 and b"User likes oolong tea" in page.content
    assert '<dd id="run-model-requests">2</dd>' in body
    # the memory was in the context of this second run, so it is listed as used
    used = re.search(r'<ul id="memories-used">(.*?)</ul>', body, re.S).group(1)
    assert memory.memory_id in used and "User likes oolong tea" in used


def test_the_context_views_section_tokens_add_up_to_each_requests_total(client, alice, tool_run):
    client.force_login(alice)
    body = client.get(f"/runs/{tool_run.run_id}/context/").content.decode()
    cards = re.findall(
        r'<section class="card ctx" id="request-(\d+)" data-total-tokens="(\d+)">(.*?)</section>', body, re.S
    )
    assert len(cards) == 2
    requests = list(RunEvent.objects.filter(run=tool_run, kind="model_request").order_by("started_at"))
    for (pk, total, card), request in zip(cards, requests, strict=True):
        assert int(pk) == request.pk
        tokens = [int(t) for t in re.findall(r'<td class="num section-tokens">(\d+)</td>', card)]
        assert tokens and sum(tokens) == int(total)
        assert f'<code class="ctx-total">{total}</code>' in card
        assert f'<code class="ctx-reported">{request.input_tokens}</code>' in card
        widths = re.findall(r'<span class="sec-\w+" style="left:[\d.]+%;width:([\d.]+)%"', card)
        assert sum(float(w) for w in widths) == pytest.approx(100, abs=0.01)
    first_sections = re.findall(r'data-section="(\w+)"><td>', cards[0][2])
    second_sections = re.findall(r'data-section="(\w+)"><td>', cards[1][2])
    assert first_sections == ["instructions", "message"]
    assert second_sections == ["instructions", "message", "tools"]


def test_the_first_requests_sections_match_the_recorded_context_assembly(client, alice, tool_run):
    client.force_login(alice)
    body = client.get(f"/runs/{tool_run.run_id}/context/").content.decode()
    first = re.search(r'<section class="card ctx".*?</section>', body, re.S).group(0)
    shown = dict(
        re.findall(r'data-section="(\w+)"><td>.*?<td class="num section-tokens">(\d+)</td>', first, re.S)
    )
    recorded = RunEvent.objects.get(run=tool_run, kind="context").payload["sections"]
    assert {k: int(v) for k, v in shown.items()} == {s["name"]: s["tokens"] for s in recorded}


def test_the_context_view_shows_the_exact_text_sent(client, alice, tool_run, fake_openai):
    client.force_login(alice)
    body = client.get(f"/runs/{tool_run.run_id}/context/").content.decode()
    sent_system = fake_openai.requests[0].body["messages"][0]["content"]
    assert sent_system.split("\n\n")[0] in body
    assert "<pre>I like green tea</pre>" in body


def test_api_keys_never_appear_on_any_run_page(client, alice, make_agent, fake_openai):
    secret = "sk-live-AbCdEf0123456789"
    fake_openai.reply(tool_calls=[("add_memory", {"memory": f"User's key is {secret}"})])
    fake_openai.reply(text=f"I will not repeat {secret} or Bearer abc.def.ghi123")
    output = make_agent("chat", enable_agentic_memory=True).run(
        f"my key is {secret}", user_id="alice", session_id="s"
    )
    run = Run.objects.get(run_id=output.run_id)
    client.force_login(alice)
    urls = [
        f"/runs/{run.run_id}/",
        f"/runs/{run.run_id}/context/",
        "/runs/",
        f"/sessions/{run.session.session_id}/timeline/",
    ]
    urls += [f"/runs/{run.run_id}/events/{pk}/" for pk in run.events.values_list("pk", flat=True)]
    for url in urls:
        body = client.get(url).content.decode()
        assert secret not in body and "sk-test-secret-123" not in body and "abc.def.ghi123" not in body, url
    assert "sk-[redacted]" in client.get(f"/runs/{run.run_id}/").content.decode()


def test_a_failed_run_shows_its_reason_in_red(client, alice, make_agent, fake_openai):
    fake_openai.reply(status=500, error="upstream exploded")
    output = make_agent("chat").run("hello", user_id="alice", session_id="s")
    client.force_login(alice)
    body = client.get(f"/runs/{output.run_id}/").content.decode()
    assert '<span class="status status-error" id="run-status">error</span>' in body
    assert re.search(
        r'<div class="tl-error" role="alert" id="run-error"><strong>Error:</strong> [^<]+</div>', body
    )
    error_rows = [r for r in _rows(body) if r[0] == "error"]
    assert len(error_rows) == 1
    assert re.search(r'class="tl-row kind-model_request is-error"', body)


def test_a_model_request_made_again_says_each_retry_and_why(client, alice, make_agent, fake_openai):
    fake_openai.reply(status=503, error="upstream busy")
    fake_openai.reply(text="Made it.")
    agent = make_agent("chat", model_kwargs={"max_retries": 2})
    output = agent.run("hello", user_id="alice", session_id="s", stream=True, stream_events=True)
    run_id = list(output)[-1].run_id
    client.force_login(alice)
    body = client.get(f"/runs/{run_id}/").content.decode()
    assert re.search(
        r'<li class="tl-retry">attempt 2 of 3 after <code>[^<]+</code>: [^<]*upstream busy', body
    )


def test_the_automatic_memory_update_is_drawn_beside_the_reply_and_its_writes_after_it(
    client, alice, make_agent, fake_openai
):
    fake_openai.reply(text="Nice to meet you.")
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "User is called Alice"})], lane=MEMORY_MANAGER_LANE
    )
    fake_openai.reply(text="Done.", lane=MEMORY_MANAGER_LANE)
    output = make_agent("chat", update_memory_on_run=True).run("I'm Alice", user_id="alice", session_id="s")
    client.force_login(alice)
    body = client.get(f"/runs/{output.run_id}/").content.decode()
    background = re.findall(r'class="tl-row kind-(\w+) is-background"', body)
    assert background == ["model_request", "tool_call", "memory_update", "model_request"]
    assert "automatic memory update · request 1" in body
    assert 'class="tl-reply"' in body
    run = Run.objects.get(run_id=output.run_id)
    reply_left = float(re.search(r'class="tl-reply" style="left:([\d.]+)%', body).group(1))
    background_lefts = re.findall(r'is-background".*?class="tl-bar" style="left:([\d.]+)%', body, re.S)
    # The first request is asked alongside the reply (in a script, as Agno's); what it leads to, after.
    assert all(float(left) >= reply_left for left in background_lefts[1:]) and run.status == "completed"


def test_an_event_of_a_kind_the_page_does_not_know_is_still_drawn(client, alice, tool_run):
    now = timezone.now()
    RunEvent.objects.create(
        run=tool_run,
        kind="summary",
        name="summary",
        started_at=now,
        ended_at=now,
        payload={"run_ids": [tool_run.run_id], "text": "Alice likes tea."},
    )
    RunEvent.objects.create(
        run=tool_run, kind="reindex", name="search", started_at=now, ended_at=None, payload={"n": 3}
    )
    client.force_login(alice)
    body = client.get(f"/runs/{tool_run.run_id}/").content.decode()
    kinds = [kind for kind, *_ in _rows(body)]
    assert kinds[-2:] == ["summary", "other"]
    assert "session summary update" in body and "reindex search" in body
    assert "Alice likes tea." in body


def test_an_events_permalink_and_its_htmx_partial(client, alice, tool_run):
    client.force_login(alice)
    event = RunEvent.objects.get(run=tool_run, kind="tool_call")
    page = client.get(f"/runs/{tool_run.run_id}/events/{event.pk}/")
    partial = client.get(f"/runs/{tool_run.run_id}/events/{event.pk}/", headers={"HX-Request": "true"})
    assert page.status_code == partial.status_code == 200
    assert b"<html" in page.content and b"<html" not in partial.content
    for body in (page.content, partial.content):
        assert b'<pre class="tool-args">' in body and b"Stored memory" in body


def test_an_event_of_another_run_is_not_found(client, alice, tool_run, make_agent, fake_openai):
    fake_openai.reply(text="ok")
    other = make_agent("chat").run("again", user_id="alice", session_id="alice-thread")
    event = RunEvent.objects.filter(run__run_id=other.run_id).first()
    client.force_login(alice)
    assert client.get(f"/runs/{tool_run.run_id}/events/{event.pk}/").status_code == 404


def test_the_run_page_costs_a_fixed_number_of_queries_however_many_events(
    client, alice, tool_run, django_assert_max_num_queries
):
    client.force_login(alice)
    client.get(f"/runs/{tool_run.run_id}/")  # warm the session and the user
    # 11: with the run's versions, whether the thread the chat shows holds it, and its person's feedback.
    with django_assert_max_num_queries(11):
        client.get(f"/runs/{tool_run.run_id}/")
    now = timezone.now()
    RunEvent.objects.bulk_create(
        RunEvent(run=tool_run, kind="tool_call", name=f"t{i}", started_at=now, ended_at=now)
        for i in range(40)
    )
    with django_assert_max_num_queries(11):
        response = client.get(f"/runs/{tool_run.run_id}/")
    assert response.content.count(b'data-kind="tool_call"') == 41


def test_a_run_still_going_says_its_timeline_comes_when_it_ends(client, alice):
    from sessions_app import services

    session = services.session_get_or_create_for_run(session_id="live", username="alice")
    running = services.run_create(session=session, input="Plan my week")
    client.force_login(alice)

    body = client.get(f"/runs/{running.run_id}/").content.decode()
    assert 'id="timeline-pending"' in body and "No events were recorded" not in body

    services.run_finish(
        run_pk=running.pk,
        session_pk=session.pk,
        status="error",
        content="",
        messages=[],
        input_tokens=0,
        output_tokens=0,
        total_tokens=0,
        started_at=timezone.now(),
        first_token_at=None,
    )
    body = client.get(f"/runs/{running.run_id}/").content.decode()
    assert 'id="timeline-pending"' not in body and "No events were recorded" in body
