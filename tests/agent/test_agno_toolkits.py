"""Toolkits and `@tool` (issue 31, items 2 and 4): `Agent(tools=[...])` takes a `Toolkit` of ours,
a toolkit of Agno's own (`agno.tools.shell.ShellTools`, from the real `agno` package), and functions
made tools with `@tool`. Ported in our words from Agno's `tools/test_toolkit.py` and
`tools/test_decorator.py`."""

from __future__ import annotations

import json

import pytest

from agentapp.agent import Tool, Toolkit, tool


class Kitchen(Toolkit):
    """A toolkit as an Agno user writes one: its methods, registered by the base class."""

    def __init__(self, **kwargs):
        self.pantry = {"tea": 3}
        super().__init__(name="kitchen", tools=[self.count, self.take], **kwargs)

    def count(self, item: str) -> str:
        """How many of an item are in the pantry."""
        return str(self.pantry.get(item, 0))

    def take(self, item: str, how_many: int = 1) -> str:
        """Take some of an item from the pantry."""
        self.pantry[item] = self.pantry.get(item, 0) - how_many
        return f"took {how_many} {item}"


def _tools_offered(fake_openai, request: int = 0) -> list[str]:
    return [t["function"]["name"] for t in fake_openai.requests[request].body.get("tools", [])]


def _last_tool_result(fake_openai) -> str:
    message = fake_openai.requests[-1].body["messages"][-1]
    assert message["role"] == "tool"
    return message["content"]


def test_a_toolkit_registers_its_methods_with_their_schema():
    kitchen = Kitchen()

    assert list(kitchen.functions) == ["count", "take"]
    take = kitchen.functions["take"]
    assert take.spec.parameters == {
        "type": "object",
        "properties": {"item": {"type": "string"}, "how_many": {"type": "integer"}},
        "required": ["item"],
    }
    assert take.spec.description == "Take some of an item from the pantry."


def test_include_and_exclude_tools_choose_among_a_toolkits_tools():
    assert list(Kitchen(include_tools=["count"]).functions) == ["count"]
    assert list(Kitchen(exclude_tools=["count"]).functions) == ["take"]
    with pytest.raises(ValueError, match="lacks: cook"):
        Kitchen(include_tools=["cook"])


def test_the_tool_hooks_not_served_are_refused_not_ignored():
    with pytest.raises(NotImplementedError, match="stop_after_tool_call_tools"):
        Kitchen(stop_after_tool_call_tools=["take"])
    with pytest.raises(NotImplementedError, match="stop_after_tool_call"):
        tool(stop_after_tool_call=True)
    with pytest.raises(NotImplementedError, match="pre_hook"):
        tool(pre_hook=print)


def test_a_toolkit_names_the_tools_that_need_confirmation():
    kitchen = Kitchen(requires_confirmation_tools=["take"])

    assert kitchen.functions["take"].requires_confirmation
    assert not kitchen.functions["count"].requires_confirmation
    with pytest.raises(ValueError, match="lacks: cook"):
        Kitchen(requires_confirmation_tools=["cook"])


def test_an_agent_runs_a_toolkits_tool(agent_on, fake_openai):
    fake_openai.reply(tool_calls=[("take", {"item": "tea", "how_many": 2})])
    fake_openai.reply(text="Took two teas.")
    kitchen = Kitchen()
    agent = agent_on(tools=[kitchen])

    output = agent.run("Take two teas", user_id="sarah")

    assert output.content == "Took two teas."
    assert _tools_offered(fake_openai) == ["count", "take"]
    assert kitchen.pantry == {"tea": 1} and _last_tool_result(fake_openai) == "took 2 tea"


def test_an_agent_runs_a_toolkit_of_agnos_own(agent_on, fake_openai):
    shell = pytest.importorskip("agno.tools.shell")
    fake_openai.reply(tool_calls=[("run_shell_command", {"args": ["echo", "hello from the shell"]})])
    fake_openai.reply(text="It said hello.")
    agent = agent_on(tools=[shell.ShellTools()])

    agent.run("Say hello in the shell", user_id="sarah")

    offered = fake_openai.requests[0].body["tools"][0]["function"]
    assert offered["name"] == "run_shell_command"
    assert offered["parameters"]["properties"]["args"] == {"type": "array", "items": {"type": "string"}}
    assert "hello from the shell" in _last_tool_result(fake_openai)


def test_the_tool_decorator_with_and_without_arguments(agent_on, fake_openai):
    @tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @tool(name="multiply_numbers", description="Multiply two numbers.", show_result=True)
    def multiply(a: int, b: int) -> int:
        return a * b

    assert isinstance(add, Tool) and add.entrypoint(2, 3) == 5
    assert (multiply.name, multiply.spec.description) == ("multiply_numbers", "Multiply two numbers.")
    fake_openai.reply(tool_calls=[("multiply_numbers", {"a": 6, "b": 7})])
    fake_openai.reply(text="42.")
    agent_on(tools=[add, multiply]).run("6 times 7?", user_id="sarah")
    assert _tools_offered(fake_openai) == ["add", "multiply_numbers"]
    assert json.loads(_last_tool_result(fake_openai)) == 42


def test_a_function_decorated_with_agnos_own_tool_is_run(agent_on, fake_openai):
    agno_tools = pytest.importorskip("agno.tools")

    @agno_tools.tool(name="greet", description="Greet someone by name.")
    def greet(name: str) -> str:
        return f"Hello, {name}!"

    fake_openai.reply(tool_calls=[("greet", {"name": "Sarah"})])
    fake_openai.reply(text="Greeted.")
    agent_on(tools=[greet]).run("Greet Sarah", user_id="sarah")

    offered = fake_openai.requests[0].body["tools"][0]["function"]
    assert (offered["name"], offered["description"]) == ("greet", "Greet someone by name.")
    assert _last_tool_result(fake_openai) == "Hello, Sarah!"


def test_tool_and_toolkit_instructions_reach_the_system_message_once(agent_on, fake_openai):
    agno_tools = pytest.importorskip("agno.tools")

    @tool(instructions="Weigh flour in grams.")
    def weigh(item: str) -> str:
        return "100 g"

    @agno_tools.tool(instructions="Greet people warmly.", add_instructions=True)
    def greet(name: str) -> str:
        return f"Hello, {name}!"

    kitchen = Kitchen(instructions="Count before you take.", add_instructions=True)
    quiet = Kitchen(instructions="Never said.")  # without add_instructions, as in Agno
    fake_openai.reply(text="Ready.")
    agent_on(tools=[kitchen, weigh, greet]).run("Hi", user_id="sarah")

    system = fake_openai.requests[0].body["messages"][0]["content"]
    assert system.count("Count before you take.") == 1
    assert "Weigh flour in grams." in system and "Greet people warmly." in system
    assert all(t.instructions is None for t in quiet.functions.values())
