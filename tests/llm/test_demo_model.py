"""DemoModel: offline, deterministic replies for running the product without an API key."""

from __future__ import annotations

import asyncio
import json
import math

import pytest

from agentapp.llm import DemoModel, Message, Model, ModelResponse, TextDelta, ToolCall, ToolSpec

SARAH = "My name is Sarah and I prefer email over phone."
SARAH_MEMORY = "User's name is Sarah and they prefer email over phone."
MEMORY_TOOLS = (
    ToolSpec("add_memory", "Store a fact.", {"type": "object"}),
    ToolSpec("update_memory", "Change a fact.", {"type": "object"}),
)


def system(*memories: str) -> Message:
    # As the context writes them (agentapp/agent/prompt.py): the id, the day learned, the text, topics.
    lines = "\n".join(
        f"- [mem_{i:06d}] (2026-03-02) {memory} (topics: misc)" for i, memory in enumerate(memories)
    )
    memory_block = f"\n\nWhat you know about the user:\n<memories>\n{lines}\n</memories>" if memories else ""
    return Message(role="system", content="You are a helpful assistant." + memory_block)


def test_a_stated_fact_becomes_one_add_memory_call() -> None:
    response = DemoModel().request([system(), Message(role="user", content=SARAH)], MEMORY_TOOLS)
    assert response.text == ""
    assert len(response.tool_calls) == 1
    call = response.tool_calls[0]
    assert call.name == "add_memory"
    assert call.parsed_arguments() == {"memory": SARAH_MEMORY, "topics": ["name", "contact"]}


def test_after_the_memory_tool_result_it_acknowledges() -> None:
    model = DemoModel()
    messages = [system(), Message(role="user", content=SARAH)]
    first = model.request(messages, MEMORY_TOOLS)
    tool_call_id = first.tool_calls[0].id
    messages += [first.as_message(), Message(role="tool", content="Saved.", tool_call_id=tool_call_id)]
    second = model.request(messages, MEMORY_TOOLS)
    assert second.text == "Got it, I'll remember that."
    assert second.tool_calls == ()


def test_other_tool_results_get_a_plain_acknowledgement() -> None:
    call = ToolCall(id="c1", name="get_weather", arguments="{}")
    messages = [
        Message(role="user", content="Weather?"),
        Message(role="assistant", tool_calls=(call,)),
        Message(role="tool", content="Sunny", tool_call_id="c1"),
    ]
    text = DemoModel().request(messages).text
    assert text.startswith("Done.")
    assert "remember" not in text


def test_a_question_is_answered_from_matching_memories() -> None:
    messages = [
        system("User likes jazz.", SARAH_MEMORY),
        Message(role="user", content="What's the best way to reach me?"),
    ]
    response = DemoModel().request(messages, MEMORY_TOOLS)
    assert response.tool_calls == ()
    assert response.text.startswith("(Offline demo model)")
    assert "email" in response.text
    assert "jazz" not in response.text


ABOUT_ME = ["What do you know about me?", "What do you remember about me?", "Who am I?", "Tell me about me"]


@pytest.mark.parametrize("question", ABOUT_ME)
def test_asked_what_it_knows_about_the_person_it_answers_from_every_memory_given(question: str) -> None:
    messages = [system("User likes jazz.", SARAH_MEMORY), Message(role="user", content=question)]
    text = DemoModel().request(messages, MEMORY_TOOLS).text
    assert "no stored memory" not in text
    assert "User likes jazz." in text and SARAH_MEMORY in text


def test_it_reads_memories_as_the_context_writes_them_with_their_dates() -> None:
    dated = "\n".join(
        [
            "You are a helpful assistant.",
            "<memories>",
            "- [mem_000001] (2026-03-02) User likes jazz. (topics: music)",
            f"- [mem_000002] (2026-11-30) {SARAH_MEMORY}",
            "</memories>",
        ]
    )
    messages = [Message(role="system", content=dated), Message(role="user", content="Who am I?")]
    text = DemoModel().request(messages, MEMORY_TOOLS).text
    assert "User likes jazz." in text and SARAH_MEMORY in text
    assert "2026-" not in text  # the date is the context's, not part of the memory


def test_asked_what_it_knows_with_no_memories_it_says_it_knows_nothing_yet() -> None:
    text = DemoModel().request([system(), Message(role="user", content="What do you know about me?")]).text
    assert "nothing about you yet" in text


def test_a_fact_already_stored_does_not_call_the_tool() -> None:
    messages = [system(SARAH_MEMORY), Message(role="user", content=SARAH)]
    response = DemoModel().request(messages, MEMORY_TOOLS)
    assert response.tool_calls == ()
    assert "(Offline demo model)" in response.text


def test_a_fact_is_not_saved_when_add_memory_is_not_offered() -> None:
    response = DemoModel().request([system(), Message(role="user", content=SARAH)])
    assert response.tool_calls == ()
    assert "My name is Sarah" in response.text


def test_small_talk_and_questions_are_not_saved_as_facts() -> None:
    model = DemoModel()
    for text in ("I'm not sure what to do.", "I have a question.", "Do you know what my name is?"):
        assert model.request([system(), Message(role="user", content=text)], MEMORY_TOOLS).tool_calls == ()


def test_facts_inside_a_memory_manager_prompt_are_found() -> None:
    messages = [
        Message(
            role="system", content="You maintain long-term memories.\n<memories>\n(none yet)\n</memories>"
        ),
        Message(role="user", content=f"The user's messages in this turn:\n- Hi!\n- {SARAH}"),
    ]
    call = DemoModel().request(messages, MEMORY_TOOLS).tool_calls[0]
    assert call.parsed_arguments()["memory"] == SARAH_MEMORY


@pytest.mark.parametrize(
    ("said", "memory"),
    [
        ("I prefer tea.", "User prefers tea."),
        ("I'm a nurse and I live in Oslo.", "User is a nurse and they live in Oslo."),
        ("Please call me Bob!", "User wants to be called Bob."),
        ("I don't like cilantro.", "User doesn't like cilantro."),
        ("I really love my dog.", "User really loves their dog."),
    ],
)
def test_it_restates_first_person_facts_in_the_third_person(said: str, memory: str) -> None:
    call = DemoModel().request([Message(role="user", content=said)], MEMORY_TOOLS).tool_calls[0]
    arguments = call.parsed_arguments()
    assert arguments["memory"] == memory
    assert 1 <= len(arguments["topics"]) <= 2
    assert all(topic.islower() and " " not in topic for topic in arguments["topics"])


def test_without_a_question_or_fact_it_echoes_the_user_and_says_it_is_a_demo() -> None:
    text = DemoModel().request([system(), Message(role="user", content="Lovely weather today")]).text
    assert text.startswith("(Offline demo model)")
    assert "Lovely weather today" in text


def test_streaming_yields_word_deltas_that_join_to_the_same_text() -> None:
    messages = [system(SARAH_MEMORY), Message(role="user", content="How can you contact me?")]
    model = DemoModel()
    items = list(model.stream(messages, MEMORY_TOOLS))
    deltas = [item.text for item in items[:-1]]
    assert all(isinstance(item, TextDelta) for item in items[:-1])
    assert len(deltas) > 5 and all(delta.count(" ") <= 1 for delta in deltas)
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert "".join(deltas) == final.text == model.request(messages, MEMORY_TOOLS).text
    assert final.started_at <= final.first_token_at <= final.ended_at


def test_a_streamed_tool_call_has_no_deltas() -> None:
    items = list(DemoModel().stream([Message(role="user", content=SARAH)], MEMORY_TOOLS))
    assert len(items) == 1
    assert items[0].tool_calls[0].name == "add_memory"


def test_a_summary_request_summarises_the_given_lines() -> None:
    messages = [
        Message(role="system", content="Summarize this conversation in a few sentences."),
        Message(
            role="user",
            content="user: My name is Sarah and I prefer email over phone\nassistant: Noted, Sarah",
        ),
    ]
    text = DemoModel().request(messages).text
    assert text.startswith("Summary")
    assert "My name is Sarah" in text and "Noted, Sarah" in text
    assert len(text) < 200


def test_a_chat_prompt_that_quotes_an_earlier_summary_is_not_a_summary_request() -> None:
    prompt = (
        "Be helpful.\n\nSummary of the earlier conversation:\n<session_summary>\nTalked.\n</session_summary>"
    )
    text = (
        DemoModel().request([Message(role="system", content=prompt), Message(role="user", content="Hi")]).text
    )
    assert not text.startswith("Summary")
    assert "Hi" in text


def test_usage_is_estimated_from_characters() -> None:
    messages = [Message(role="user", content="x" * 10)]
    response = DemoModel().request(messages)
    assert response.usage.input_tokens == 3
    assert response.usage.output_tokens == math.ceil(len(response.text) / 4)
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_it_is_deterministic_and_identifies_itself() -> None:
    model = DemoModel()
    messages = [Message(role="user", content=SARAH)]
    first, second = model.request(messages, MEMORY_TOOLS), model.request(messages, MEMORY_TOOLS)
    assert (first.text, first.tool_calls) == (second.text, second.tool_calls)
    assert (model.id, model.provider, model.base_url, model.is_offline_demo) == ("demo", "demo", None, True)
    assert isinstance(model, Model)


def test_the_async_variants_behave_like_the_sync_ones() -> None:
    model = DemoModel()
    messages = [system(SARAH_MEMORY), Message(role="user", content="What's the best way to reach me?")]

    async def run() -> tuple[ModelResponse, list[object]]:
        return await model.arequest(messages), [item async for item in model.astream(messages)]

    response, items = asyncio.run(run())
    assert response.text == model.request(messages).text
    assert "".join(item.text for item in items[:-1]) == items[-1].text == response.text
    assert json.dumps(response.text)


OPTIMIZE_SYSTEM = Message(role="system", content="Merge the memories listed inside <memories_to_optimize>.")


def _to_optimize(*lines: str) -> Message:
    return Message(
        role="user", content="<memories_to_optimize>\n" + "\n".join(lines) + "\n</memories_to_optimize>"
    )


def test_the_optimisation_request_merges_into_the_memory_that_says_everything_the_others_do() -> None:
    message = _to_optimize(
        "- [a] Likes tea (topics: drinks)",
        "- [b] User likes tea",
        "- [c] User likes tea and lives in Paris (topics: home)",
        "- [d] Has a dog",
        "- [e] Likes coffee",
    )

    answer = json.loads(DemoModel().request([OPTIMIZE_SYSTEM, message]).text)

    assert answer == {
        "merges": [
            {
                "ids": ["c", "a", "b"],
                "memory": "User likes tea and lives in Paris",
                "topics": ["home", "drinks"],
            }
        ]
    }


def test_memories_that_only_overlap_are_not_merged_and_a_chat_quoting_the_tag_is_a_chat() -> None:
    overlapping = _to_optimize("- [a] Likes tea and cake", "- [b] Likes tea and jam")
    chat = [system(), _to_optimize("- [a] Likes tea", "- [b] Likes tea")]

    assert json.loads(DemoModel().request([OPTIMIZE_SYSTEM, overlapping]).text) == {"merges": []}
    assert DemoModel().request(chat).text.startswith("(Offline demo model)")


def test_a_changed_fact_replaces_the_stored_one_when_the_tool_can_say_so() -> None:
    from agentapp.agent.memory.tools import ADD_SPEC

    messages = [
        system("User lives in Lisbon.", "User works at Acme."),
        Message(role="user", content="I live in Porto now."),
    ]
    [call] = DemoModel().request(messages, (ADD_SPEC,)).tool_calls
    assert json.loads(call.arguments) | {"topics": None} == {
        "memory": "User lives in Porto now.",
        "replaces": "mem_000000",
        "topics": None,
    }
    # A tool without `replaces` (Agno's own, say) gets a plain add; a new kind of fact replaces nothing.
    [plain] = DemoModel().request(messages, MEMORY_TOOLS).tool_calls
    assert "replaces" not in json.loads(plain.arguments)
    other = [messages[0], Message(role="user", content="I have a dog called Pepper.")]
    [new] = DemoModel().request(other, (ADD_SPEC,)).tool_calls
    assert "replaces" not in json.loads(new.arguments)


def test_it_reads_a_past_fact_line_without_its_interval() -> None:
    line = "- [mem_1] (2025-01-10 to 2026-05-02, no longer true) User lives in Lisbon. (topics: home)"
    messages = [
        Message(role="system", content=f"<memories>\n{line}\n</memories>"),
        Message(role="user", content="Who am I?"),
    ]
    text = DemoModel().request(messages, MEMORY_TOOLS).text
    assert "User lives in Lisbon." in text and "2025" not in text
