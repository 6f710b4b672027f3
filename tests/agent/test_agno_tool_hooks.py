"""Agno's tool hooks: `Agent(tool_hooks=[...])` and `@tool(tool_hooks=[...])`, middleware around each
tool call that may look at, change or replace the call (issue 31, item 4: the cookbook's
`tool_hooks` examples). Ported in our words from Agno's `tools/test_tool_hooks.py`."""

from __future__ import annotations

import asyncio

import pytest

from agentapp.agent import Agent, tool
from agentapp.agent.in_memory import InMemoryDb
from agentapp.db import DjangoDb


def _last_tool_result(fake_openai) -> str:
    message = fake_openai.requests[-1].body["messages"][-1]
    assert message["role"] == "tool"
    return message["content"]


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_an_agents_hooks_wrap_each_call_the_first_outermost(agent_on, fake_openai):
    seen = []

    def logging_hook(function_name, function_call, arguments):
        seen.append(("outer in", function_name, dict(arguments)))
        result = function_call(**arguments)
        seen.append(("outer out", result))
        return result

    def doubling_hook(function_call, arguments):
        seen.append(("inner in",))
        return function_call(a=arguments["a"] * 2, b=arguments["b"])

    fake_openai.reply(tool_calls=[("add", {"a": 2, "b": 3})])
    fake_openai.reply(text="Seven.")

    agent_on(tools=[add], tool_hooks=[logging_hook, doubling_hook]).run("2 + 3?", user_id="sarah")

    assert seen == [("outer in", "add", {"a": 2, "b": 3}), ("inner in",), ("outer out", 7)]
    assert _last_tool_result(fake_openai) == "7"


def test_a_hook_may_answer_without_calling_the_tool(agent_on, fake_openai):
    called = []

    def tool_that_counts(a: int, b: int) -> int:
        """Add two numbers."""
        called.append((a, b))
        return a + b

    def guard(name, func, args):
        return "refused: negative numbers" if args["a"] < 0 else func(**args)

    fake_openai.reply(tool_calls=[("tool_that_counts", {"a": -1, "b": 3})])
    fake_openai.reply(text="No.")

    agent_on(tools=[tool_that_counts], tool_hooks=[guard]).run("-1 + 3?", user_id="sarah")

    assert called == [] and _last_tool_result(fake_openai) == "refused: negative numbers"


def test_a_tools_own_hooks_run_inside_the_agents(agent_on, fake_openai):
    order = []

    def own(function_call, arguments):
        order.append("tool's own")
        return function_call(**arguments)

    def agents(function_call, arguments, run_context):
        order.append(f"agent's, for {run_context.user_id}")
        return function_call(**arguments)

    hooked_add = tool(tool_hooks=[own])(add)
    fake_openai.reply(tool_calls=[("add", {"a": 1, "b": 1})])
    fake_openai.reply(text="Two.")

    agent_on(tools=[hooked_add], tool_hooks=[agents]).run("1 + 1?", user_id="sarah")

    assert order == ["agent's, for sarah", "tool's own"]


@pytest.mark.parametrize(
    "db", [pytest.param("django", marks=pytest.mark.django_db(transaction=True)), "in_memory"]
)
def test_async_hooks_are_awaited_in_an_async_run(db, make_model, fake_openai):
    seen = []

    async def async_hook(function_name, function_call, arguments):
        seen.append(function_name)
        return await function_call(**arguments)

    def sync_hook(function_call, arguments):
        return function_call(**arguments)  # a coroutine in an async run: awaited for it

    fake_openai.reply(tool_calls=[("add", {"a": 4, "b": 5})])
    fake_openai.reply(text="Nine.")
    storage = DjangoDb() if db == "django" else InMemoryDb()
    agent = Agent(model=make_model("chat"), db=storage, tools=[add], tool_hooks=[async_hook, sync_hook])

    asyncio.run(agent.arun("4 + 5?", user_id="sarah"))

    assert seen == ["add"] and _last_tool_result(fake_openai) == "9"


def test_tool_hooks_must_be_functions(agent_on):
    with pytest.raises(TypeError, match="tool_hooks"):
        agent_on(tools=[add], tool_hooks=["not a function"])
