"""The pure layout math: no database, no templates."""

from __future__ import annotations

import pytest

from agentapp.agent import MemoryManager
from agentapp.agent.records import SessionSummaryRecord, UserMemory
from agentapp.agent.run.context import build_context
from agentapp.llm.types import Message
from sessions_app.timeline import layout as timeline


def test_a_bar_sits_at_its_offset_with_its_share_of_the_axis():
    bar = timeline.bar(start_ms=250, end_ms=750, total_ms=1000)
    assert (bar.left, bar.width, bar.duration_ms) == ("25.000", "50.000", 500)
    assert bar.style == "left:25.000%;width:50.000%"


def test_an_instant_event_still_gets_a_visible_bar_that_stays_on_the_axis():
    bar = timeline.bar(start_ms=1000, end_ms=1000, total_ms=1000)
    assert float(bar.width) == timeline.MIN_BAR_PCT
    assert float(bar.left) + float(bar.width) == pytest.approx(100)


def test_an_unfinished_event_has_no_duration():
    bar = timeline.bar(start_ms=10, end_ms=None, total_ms=100)
    assert bar.duration_ms is None and bar.left == "10.000"


def test_axis_ticks_use_round_steps_and_readable_units():
    ticks = timeline.axis_ticks(2300)
    assert [t.label for t in ticks] == ["0 ms", "500 ms", "1.00 s", "1.50 s", "2.00 s"]
    assert ticks[0].left == "0.000" and ticks[2].left == f"{1000 / 2300 * 100:.3f}"


@pytest.mark.parametrize(
    ("total", "step"), [(7, 2), (100, 20), (999, 200), (1000, 200), (45_000, 10_000), (0, 1)]
)
def test_nice_steps_are_one_two_or_five_times_a_power_of_ten(total, step):
    assert timeline.nice_step(total) == step


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, "-"), (12.4, "12 ms"), (1234, "1.23 s"), (125_000, "2 min 5 s"), (3_720_000, "1 h 2 min")],
)
def test_durations_are_formatted_for_people(ms, text):
    assert timeline.format_ms(ms) == text


def test_a_stacked_bar_splits_the_whole_width_by_token_share_and_drops_empty_parts():
    segments = timeline.stacked([("instructions", 30), ("memories", 0), ("history", 50), ("message", 20)])
    assert [s.name for s in segments] == ["instructions", "history", "message"]
    assert [s.left for s in segments] == ["0.000", "30.000", "80.000"]
    assert sum(float(s.width) for s in segments) == pytest.approx(100)
    assert timeline.stacked([("a", 0)]) == []


def test_the_token_chart_scales_bars_to_the_largest_value_and_marks_turns():
    chart = timeline.token_chart([(100, 10), (200, 50)], marked=[1, 7], width=200, height=104, padding=2)
    assert chart.max_value == 200
    heights = {(b.turn, b.series): float(b.height) for b in chart.bars}
    assert heights[(1, "in")] == pytest.approx(100) and heights[(0, "in")] == pytest.approx(50)
    assert heights[(0, "out")] == pytest.approx(5)
    tallest = next(b for b in chart.bars if b.turn == 1 and b.series == "in")
    assert float(tallest.y) == pytest.approx(2)  # reaches the top padding
    assert [m.turn for m in chart.markers] == [1]  # a marker past the last turn is dropped


def test_an_empty_chart_has_no_bars():
    chart = timeline.token_chart([])
    assert chart.bars == [] and chart.max_value == 0


def _context(**kwargs):
    return build_context(
        instructions="Be brief.\n\nAlways be kind.",
        message="What do I drink?",
        history=[Message(role="user", content="Hi"), Message(role="assistant", content="Hello there!")],
        memories=[UserMemory(memory_id="mem_1", memory="User likes tea", topics=["drinks"], user_id="a")],
        summary=SessionSummaryRecord(
            session_id="s", summary="They talked about tea.", topics=[], last_run_id=None
        ),
        **kwargs,
    )


def _sent(context):
    return [m.to_dict() for m in context.messages], [span.to_dict() for span in context.layout]


def test_the_recorded_layout_splits_the_system_message_into_its_parts():
    sent, spans = _sent(_context(agentic_memory=True))
    sections = {s.name: s for s in timeline.context_sections(sent, spans)}
    assert list(sections) == ["instructions", "memories", "summary", "history", "message"]
    assert sections["instructions"].texts[0][1].startswith("Be brief.\n\nAlways be kind.")
    assert sections["memories"].texts == [
        (
            "system",
            "What you know about the user:\n<memories>\n"
            "- [mem_1] User likes tea (topics: drinks)\n</memories>",
        )
    ]
    assert "They talked about tea." in sections["summary"].texts[0][1]


def test_sections_from_the_recorded_layout_match_the_context_assembly():
    context = _context()
    sections = timeline.context_sections(*_sent(context))
    assert [(s.name, s.tokens) for s in sections] == [(s.name, s.tokens) for s in context.sections]
    assert sum(s.tokens for s in sections) == context.total_tokens


def test_rewording_the_prompts_cannot_move_a_part_into_another():
    """The layout names the parts; no wording of the prompt is looked for."""
    sent, spans = _sent(_context())
    sent[0]["content"] = sent[0]["content"].replace("What you know about the user:", "Known facts:")
    sent[0]["content"] = sent[0]["content"].replace("Summary of the earlier conversation:", "So far:")
    names = [s.name for s in timeline.context_sections(sent, spans)]
    assert names == ["instructions", "memories", "summary", "history", "message"]


def test_every_message_after_the_recorded_ones_is_counted_as_tool_work():
    sent, spans = _sent(_context())
    sent.append(
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "name": "add_memory", "arguments": '{"memory": "x"}'}],
        }
    )
    sent.append({"role": "tool", "content": "Stored memory mem_2.", "tool_call_id": "c1"})
    sections = {s.name: s for s in timeline.context_sections(sent, spans)}
    assert sections["tools"].items == 2
    assert sections["tools"].tokens == timeline.estimate_tokens(
        'add_memory({"memory": "x"})'
    ) + timeline.estimate_tokens("Stored memory mem_2.")
    assert sections["message"].texts == [("user", "What do I drink?")]
    assert sections["history"].items == 2


def test_the_memory_managers_stored_memories_count_as_memories():
    memories = [UserMemory(memory_id="mem_1", memory="x", topics=[], user_id="a")]
    messages, spans = MemoryManager().context(memories=memories, user_messages=["hi"])
    sent = [m.to_dict() for m in messages]
    names = [s.name for s in timeline.context_sections(sent, [span.to_dict() for span in spans])]
    assert names == ["instructions", "memories", "message"]


def test_a_request_recorded_without_a_layout_is_split_by_role_and_place():
    sent, _ = _sent(_context())
    names = [s.name for s in timeline.context_sections(sent)]
    assert names == ["instructions", "history", "message"]  # the system message stays whole


@pytest.mark.parametrize(
    "secret",
    [
        "sk-test-secret-123",
        "sk-proj-AbC123xyz_987",
        "Bearer abcdef.123456",
        "api_key=supersecretvalue",
        '"api_key": "abcdef123456"',
    ],
)
def test_anything_that_looks_like_a_key_is_redacted(secret):
    text = timeline.redact(f"before {secret} after")
    assert "before" in text and "after" in text and "[redacted]" in text
    assert secret.split()[-1].split("=")[-1].strip('"') not in text


def test_pretty_indents_json_text_and_redacts_it():
    assert timeline.pretty('{"b": 1, "key": "sk-abcdefghijk"}') == '{\n  "b": 1,\n  "key": "sk-[redacted]"\n}'
    assert timeline.pretty("not json sk-abcdefghijk") == "not json sk-[redacted]"


@pytest.mark.parametrize("turns", [1, 3, 200])
def test_chart_bars_stay_inside_the_chart_and_a_short_session_gets_narrow_bars(turns):
    chart = timeline.token_chart([(10 * i + 1, i) for i in range(turns)], width=640, height=120)
    assert len(chart.bars) == 2 * turns
    assert all(float(b.x) >= 0 and float(b.x) + float(b.width) <= 640 for b in chart.bars)
    assert all(float(b.width) <= timeline.MAX_SLOT * 0.4 for b in chart.bars)
