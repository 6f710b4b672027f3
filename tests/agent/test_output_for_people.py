"""Agno's output for people: print_response (streamed or not, Markdown in the terminal), and the
description, instructions (a string, a list or a callable), markdown, id and telemetry parameters."""

from __future__ import annotations

import io

from asgiref.sync import async_to_sync

from agentapp.agent import Agent, InMemoryDb


def system_message(fake_openai) -> str:
    return fake_openai.requests[-1].body["messages"][0]["content"]


def test_print_response_prints_the_reply(make_model, fake_openai):
    fake_openai.reply(text="Hello, Sarah.")
    out = io.StringIO()

    output = Agent(model=make_model("chat"), db=InMemoryDb()).print_response("Hi", file=out)

    assert out.getvalue() == "Hello, Sarah.\n" and output.content == "Hello, Sarah."


def test_print_response_streams_chunk_by_chunk(make_model, fake_openai):
    fake_openai.reply(text="one two three")
    out = io.StringIO()

    Agent(model=make_model("chat")).print_response("Count", stream=True, file=out)

    assert out.getvalue() == "one two three\n"


def test_markdown_is_rendered_for_the_terminal(make_model, fake_openai):
    fake_openai.reply(text="## Steps\n\n1. **Pack** light")
    out = io.StringIO()

    Agent(model=make_model("chat"), markdown=True).print_response("Plan", file=out)

    printed = out.getvalue()
    assert "Steps" in printed and "Pack" in printed
    assert "**" not in printed and "##" not in printed  # rendered, not the source
    assert "Use markdown to format your answers." in system_message(fake_openai)


def test_a_failed_run_is_printed_with_its_reason(make_model, fake_openai):
    fake_openai.reply(status=400, error="bad request")
    out = io.StringIO()

    output = Agent(model=make_model("chat")).print_response("Hi", file=out)

    assert output.status == "error" and out.getvalue().startswith("[error] ")


def test_aprint_response(make_model, fake_openai):
    fake_openai.reply(text="async hello")
    out = io.StringIO()

    async_to_sync(Agent(model=make_model("chat")).aprint_response)("Hi", file=out)

    assert out.getvalue() == "async hello\n"


def test_description_and_a_list_of_instructions_open_the_system_message(make_model, fake_openai):
    fake_openai.reply(text="ok")
    agent = Agent(
        model=make_model("chat"),
        description="You are a travel agent.",
        instructions=["Answer in one sentence.", "Always name a city."],
        id="travel-agent",
        telemetry=True,
    )

    output = agent.run("Where to?")

    assert output.status == "completed"  # a list of instructions used to end every run in an error
    system = system_message(fake_openai)
    assert system.startswith("You are a travel agent.\n\n- Answer in one sentence.\n- Always name a city.")
    assert agent.id == "travel-agent"


def test_instructions_may_be_a_callable_read_at_each_run(make_model, fake_openai):
    fake_openai.reply(text="ok")
    fake_openai.reply(text="ok")
    mood = {"now": "cheerful"}
    agent = Agent(
        model=make_model("chat"), instructions=lambda agent: f"Be {mood['now']}; you are {agent.name}."
    )

    agent.run("Hi")
    first = system_message(fake_openai)
    mood["now"] = "brief"
    agent.run("Hi")

    assert first.startswith("Be cheerful; you are agent.")
    assert system_message(fake_openai).startswith("Be brief; you are agent.")
