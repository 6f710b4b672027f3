"""The rest of Agno's human in the loop (issue 31, item 9), as Agno 3.1.10 has it: a tool made with
`@tool(requires_user_input=True, user_input_fields=[...])` pauses the run for its caller to fill its
fields, one made with `@tool(external_execution=True)` (or named in a Toolkit's
`external_execution_required_tools`) pauses for its caller to run it and hand back the result; a
continued run that pauses again is continued again. Ported in our words from Agno's
`human_in_the_loop/test_user_input_flows.py`, `test_external_execution_flows.py`,
`test_run_requirement.py` and `test_multi_round_user_input.py`, on both storages."""

from __future__ import annotations

import asyncio
import json

import pytest

from agentapp.agent import Agent, InMemoryDb, RunStatus, Toolkit, UserInputField, tool
from agentapp.db import DjangoDb
from tests.agent.hitl_helpers import run_status, tool_messages

ran: list[str] = []  # what the tools below did, in order


@tool(requires_user_input=True, user_input_fields=["temperature"])
def get_the_weather(city: str, temperature: int) -> str:
    """The weather in a city."""
    ran.append(f"weather {city} {temperature}")
    return f"It is currently {temperature} degrees and cloudy in {city}"


@tool(requires_user_input=True)
def get_preference(preference_type: str) -> str:
    """What the user prefers."""
    ran.append(f"preference {preference_type}")
    return f"User preference for {preference_type}"


@tool(external_execution=True)
def send_email(to: str, subject: str) -> str:
    """Send an email."""
    ran.append(f"email {to}")  # never here: its caller runs it
    return "sent here"


def get_activities(city: str) -> str:
    """What there is to do in a city."""
    ran.append(f"activities {city}")
    return f"Shopping in {city}"


@pytest.fixture(autouse=True)
def _nothing_ran():
    ran.clear()


def _offered(request, name: str) -> dict:
    """The parameters the model was offered for a tool."""
    [spec] = [t["function"] for t in request.body["tools"] if t["function"]["name"] == name]
    return spec["parameters"]


# --- user input ----------------------------------------------------------------------------------


def test_a_tool_that_needs_user_input_pauses_with_the_fields_to_fill(agent_on, storage, fake_openai):
    agent = agent_on(tools=[get_the_weather])
    fake_openai.reply(tool_calls=[("get_the_weather", {"city": "Tokyo"})])

    output = agent.run("What is the weather in Tokyo?", user_id="alice")

    assert output.is_paused and output.status == RunStatus.paused and ran == []
    assert output.content == "I have tools to execute, but I need user input."
    assert _offered(fake_openai.requests[0], "get_the_weather")["properties"] == {"city": {"type": "string"}}
    [pending] = output.tools_requiring_user_input
    assert pending.tool_name == "get_the_weather" and json.loads(pending.tool_args) == {"city": "Tokyo"}
    assert pending.is_paused and not pending.requires_confirmation
    schema = pending.user_input_schema
    assert all(isinstance(f, UserInputField) for f in schema)
    assert [(f.name, f.field_type, f.value) for f in schema] == [
        ("city", str, "Tokyo"),
        ("temperature", int, None),
    ]
    [requirement] = output.active_requirements
    assert requirement.needs_user_input and requirement.pause_type == "user_input"
    assert not requirement.needs_confirmation and not requirement.needs_external_execution
    assert requirement.user_input_schema is schema
    with pytest.raises(ValueError, match="does not require confirmation"):
        requirement.confirm()
    assert run_status(storage, output.run_id) == "paused"


def test_the_callers_input_reaches_the_tool_and_the_run_goes_on(agent_on, storage, fake_openai):
    agent = agent_on(tools=[get_the_weather])
    fake_openai.reply(tool_calls=[("get_the_weather", {"city": "Tokyo"})])
    output = agent.run("What is the weather in Tokyo?", user_id="alice")
    requirement = output.active_requirements[0]

    requirement.provide_user_input({"temperature": 70})

    assert requirement.is_resolved() and output.active_requirements == []
    fake_openai.reply(text="70 and cloudy.")
    final = agent.continue_run(run_response=output)
    assert final.status == "completed" and final.content == "70 and cloudy."
    assert ran == ["weather Tokyo 70"]
    assert tool_messages(fake_openai.requests[-1]) == ["It is currently 70 degrees and cloudy in Tokyo"]
    [done] = final.tools
    assert done.result == "It is currently 70 degrees and cloudy in Tokyo"
    assert done.answered and not done.requires_user_input and not final.is_paused
    assert json.loads(done.tool_args) == {"city": "Tokyo", "temperature": 70}
    assert run_status(storage, output.run_id) == "completed"
    [stored] = agent.get_session(session_id=output.session_id).runs
    assert [m.role for m in stored.messages] == ["user", "assistant", "tool", "assistant"]


def test_a_field_set_directly_is_used_by_another_agent_continuing_from_the_run_id(
    agent_on, storage, make_model, fake_openai
):
    first = agent_on(tools=[get_preference])
    fake_openai.reply(tool_calls=[("get_preference", {"preference_type": "food"})])
    paused = first.run("What is my food preference?", user_id="alice")

    later = Agent(model=make_model("chat"), db=storage, tools=[get_preference])
    [requirement] = later.get_run_output(
        run_id=paused.run_id, session_id=paused.session_id
    ).active_requirements
    assert requirement.needs_user_input and requirement.user_input_schema[0].value == "food"
    requirement.user_input_schema[0].value = "drinks"  # as Agno's tests do: no provide_user_input
    fake_openai.reply(text="You like drinks.")
    final = later.continue_run(
        run_id=paused.run_id, session_id=paused.session_id, requirements=[requirement], user_id="alice"
    )

    assert final.content == "You like drinks." and ran == ["preference drinks"]
    assert final.tools[0].result == "User preference for drinks"


def test_the_other_tools_of_the_round_run_while_the_input_waits(agent_on, fake_openai):
    agent = agent_on(tools=[get_the_weather, get_activities])
    fake_openai.reply(
        tool_calls=[("get_activities", {"city": "Tokyo"}), ("get_the_weather", {"city": "Tokyo"})]
    )

    output = agent.run("Weather and activities in Tokyo", user_id="alice")

    assert output.is_paused and ran == ["activities Tokyo"]
    for pending in output.tools:
        if pending.requires_user_input:
            pending.user_input_schema[1].value = 21
    fake_openai.reply(text="Done.")
    agent.continue_run(output)
    assert ran == ["activities Tokyo", "weather Tokyo 21"]
    assert tool_messages(fake_openai.requests[-1]) == [
        "Shopping in Tokyo",
        "It is currently 21 degrees and cloudy in Tokyo",
    ]


def test_a_stream_pauses_for_user_input_and_goes_on(agent_on, fake_openai):
    agent = agent_on(tools=[get_the_weather])
    fake_openai.reply(tool_calls=[("get_the_weather", {"city": "Oslo"})])
    fake_openai.reply(text="Cold.")

    [paused] = [e for e in agent.run("Weather in Oslo", user_id="alice", stream=True) if e.is_paused]
    assert paused.tools[0].requires_user_input and paused.tools[0].tool_name == "get_the_weather"
    paused.requirements[0].provide_user_input({"temperature": -3})
    later = list(
        agent.continue_run(
            run_id=paused.run_id, requirements=paused.requirements, stream=True, yield_run_output=True
        )
    )

    assert not any(e.is_paused for e in later) and ran == ["weather Oslo -3"]
    assert later[-1].status == "completed" and later[-1].content == "Cold."


@pytest.mark.parametrize(
    "db", [pytest.param("django", marks=pytest.mark.django_db(transaction=True)), "in_memory"]
)
def test_acontinue_run_gives_the_input_to_an_async_run(db, make_model, fake_openai):
    storage = DjangoDb() if db == "django" else InMemoryDb()
    agent = Agent(model=make_model("chat"), db=storage, tools=[get_the_weather])
    fake_openai.reply(tool_calls=[("get_the_weather", {"city": "Lima"})])
    fake_openai.reply(text="Warm.")

    async def go():
        output = await agent.arun("Weather in Lima", user_id="alice")
        assert output.is_paused
        output.active_requirements[0].provide_user_input({"temperature": 25})
        return await agent.acontinue_run(
            run_id=output.run_id, session_id=output.session_id, requirements=output.requirements
        )

    final = asyncio.run(go())
    assert final.content == "Warm." and ran == ["weather Lima 25"]


# --- external execution --------------------------------------------------------------------------


def _email_paused(agent_on, fake_openai):
    agent = agent_on(tools=[send_email, get_activities])
    fake_openai.reply(tool_calls=[("send_email", {"to": "john@doe.com", "subject": "Test"})])
    return agent, agent.run("Email John", user_id="alice")


def test_a_tool_run_by_its_caller_pauses_the_run_and_is_not_run_here(agent_on, storage, fake_openai):
    _, output = _email_paused(agent_on, fake_openai)

    assert output.is_paused and ran == []
    assert output.content == "I have tools to execute, but it needs external execution."
    [pending] = output.tools_awaiting_external_execution
    assert pending.external_execution_required and pending.tool_name == "send_email"
    assert json.loads(pending.tool_args) == {"to": "john@doe.com", "subject": "Test"}
    [requirement] = output.active_requirements
    assert requirement.needs_external_execution and requirement.pause_type == "external_execution"
    assert not requirement.needs_confirmation and not requirement.needs_user_input
    assert run_status(storage, output.run_id) == "paused"


def test_the_callers_result_is_what_the_model_is_told(agent_on, storage, fake_openai):
    agent, output = _email_paused(agent_on, fake_openai)
    requirement = output.active_requirements[0]

    requirement.set_external_execution_result("Email sent to john@doe.com")

    assert requirement.is_resolved() and requirement.tool_execution.result == "Email sent to john@doe.com"
    fake_openai.reply(text="I emailed John.")
    final = agent.continue_run(
        run_id=output.run_id, session_id=output.session_id, requirements=output.requirements
    )
    assert final.status == "completed" and final.content == "I emailed John."
    assert ran == []  # its caller ran it, not the agent
    assert tool_messages(fake_openai.requests[-1]) == ["Email sent to john@doe.com"]
    assert final.tools[0].result == "Email sent to john@doe.com"
    assert not final.tools[0].external_execution_required
    [stored] = agent.get_session(session_id=output.session_id).runs
    assert [m.role for m in stored.messages] == ["user", "assistant", "tool", "assistant"]
    assert stored.messages[2].content == "Email sent to john@doe.com"


def test_a_result_set_on_the_tool_itself_counts_as_in_agno(agent_on, fake_openai):
    agent, output = _email_paused(agent_on, fake_openai)
    output.tools[0].result = "Sent."
    fake_openai.reply(text="Done.")

    final = agent.continue_run(output)

    assert final.status == "completed" and tool_messages(fake_openai.requests[-1]) == ["Sent."]


def test_without_its_result_the_run_is_not_continued(agent_on, storage, fake_openai):
    agent, output = _email_paused(agent_on, fake_openai)

    with pytest.raises(ValueError, match="send_email requires external execution"):
        agent.continue_run(run_response=output)
    with pytest.raises(ValueError, match="send_email requires external execution"):
        agent.continue_run(
            run_id=output.run_id, session_id=output.session_id, requirements=output.requirements
        )

    assert run_status(storage, output.run_id) == "paused" and len(fake_openai.requests) == 1
    output.active_requirements[0].set_external_execution_result("Sent later.")
    fake_openai.reply(text="Done.")
    assert agent.continue_run(output).status == "completed"  # still there to be continued


def test_a_silent_tool_run_elsewhere_pauses_without_a_word(agent_on, fake_openai):
    @tool(external_execution=True, external_execution_silent=True)
    def charge(amount: int) -> str:
        """Charge the card."""
        return "charged here"

    agent = agent_on(tools=[charge])
    fake_openai.reply(tool_calls=[("charge", {"amount": 5})])

    output = agent.run("Charge 5", user_id="alice")

    assert output.is_paused and output.content == ""
    assert output.active_requirements[0].external_execution_silent


def test_a_toolkit_names_its_tools_run_elsewhere_and_the_caller_runs_the_entrypoint(agent_on, fake_openai):
    class Shell(Toolkit):
        def __init__(self):
            super().__init__(
                name="shell", tools=[self.run_command], external_execution_required_tools=["run_command"]
            )

        def run_command(self, command: str) -> str:
            """Run a shell command."""
            return command.replace("echo ", "")

    shell = Shell()
    agent = agent_on(tools=[shell])
    fake_openai.reply(tool_calls=[("run_command", {"command": "echo Hello World"})])
    output = agent.run("Say hello through the shell", user_id="alice")
    [requirement] = output.active_requirements
    assert requirement.needs_external_execution

    arguments = json.loads(requirement.tool_execution.tool_args)
    requirement.set_external_execution_result(shell.functions["run_command"].entrypoint(**arguments))
    fake_openai.reply(text="It said Hello World.")
    final = agent.continue_run(output)

    assert tool_messages(fake_openai.requests[-1]) == ["Hello World"]
    assert final.tools[0].result == "Hello World"
    with pytest.raises(ValueError, match="lacks: cook"):
        Toolkit(name="t", tools=[get_activities], external_execution_required_tools=["cook"])


# --- many rounds ---------------------------------------------------------------------------------


@tool(requires_user_input=True, user_input_fields=["answer"])
def ask_question(question: str, answer: str = "") -> str:
    """Ask the user one question."""
    ran.append(f"{question} -> {answer}")
    return f"{question} -> {answer}"


def test_a_continued_run_that_pauses_again_is_continued_again(agent_on, storage, fake_openai):
    agent = agent_on(tools=[ask_question])
    questions = ["Your name?", "Your age?", "Your city?"]
    fake_openai.reply(tool_calls=[("ask_question", {"question": questions[0]})])
    for question in questions[1:]:
        fake_openai.reply(tool_calls=[("ask_question", {"question": question})])
    fake_openai.reply(text="John, 25, NYC.")

    response = agent.run("Start the survey", user_id="alice")
    seen, counts = [], []
    for answer in ["John", "25", "NYC"]:
        assert response.is_paused and run_status(storage, response.run_id) == "paused"
        [active] = response.active_requirements
        assert active.tool_execution.tool_call_id not in seen
        seen.append(active.tool_execution.tool_call_id)
        counts.append(len(response.requirements))
        active.user_input_schema[1].value = answer
        response = agent.continue_run(
            run_id=response.run_id, session_id=response.session_id, requirements=response.requirements
        )

    assert response.status == "completed" and response.content == "John, 25, NYC."
    assert counts == [1, 2, 3]  # the run's requirements add up, as Agno's
    assert ran == ["Your name? -> John", "Your age? -> 25", "Your city? -> NYC"]
    assert [t.result for t in response.tools] == ran and response.active_requirements == []
    assert tool_messages(fake_openai.requests[-1]) == ran
    [stored] = agent.get_session(session_id=response.session_id).runs
    assert [m.role for m in stored.messages] == ["user", *["assistant", "tool"] * 3, "assistant"]


def test_each_round_may_wait_for_a_different_kind_of_answer(agent_on, fake_openai):
    @tool(requires_confirmation=True)
    def delete_file(path: str) -> str:
        """Delete a file."""
        ran.append(f"delete {path}")
        return f"{path} deleted"

    agent = agent_on(tools=[delete_file, send_email])
    fake_openai.reply(tool_calls=[("delete_file", {"path": "a.txt"})])
    fake_openai.reply(tool_calls=[("send_email", {"to": "ops@acme.com", "subject": "a.txt gone"})])
    fake_openai.reply(text="Deleted and told ops.")

    first = agent.run("Delete a.txt and tell ops", user_id="alice")
    first.active_requirements[0].confirm()
    second = agent.continue_run(first)
    assert second.is_paused and [r.pause_type for r in second.active_requirements] == ["external_execution"]
    assert [t.tool_name for t in second.tools] == ["delete_file", "send_email"]
    second.active_requirements[0].set_external_execution_result("Mail queued")
    final = agent.continue_run(second)

    assert final.status == "completed" and ran == ["delete a.txt"]
    assert tool_messages(fake_openai.requests[-1]) == ["a.txt deleted", "Mail queued"]


# --- how tools are declared ----------------------------------------------------------------------


def test_a_tool_pauses_for_one_kind_of_answer_only_as_in_agno():
    with pytest.raises(ValueError, match="Only one of"):
        tool(requires_user_input=True, requires_confirmation=True)
    with pytest.raises(ValueError, match="Only one of"):
        tool(external_execution=True, requires_confirmation=True)

    @tool(user_input_fields=["when"])  # naming its fields asks for input, as Agno's
    def book(room: str, when: str) -> str:
        """Book a room."""
        return room

    assert book.requires_user_input and book.user_input_fields == ("when",)
    assert book.spec.parameters["properties"] == {"room": {"type": "string"}}
    assert book.spec.parameters["required"] == ["room"]


def test_tools_made_with_agnos_own_decorator_pause_the_same_way(agent_on, fake_openai):
    from agno.tools import tool as agno_tool

    @agno_tool(requires_user_input=True, user_input_fields=["size"])
    def order_pizza(topping: str, size: str) -> str:
        """Order a pizza."""
        ran.append(f"pizza {topping} {size}")
        return "ordered"

    @agno_tool(external_execution=True)
    def charge_card(amount: int) -> str:
        """Charge the card."""
        return "charged here"

    agent = agent_on(tools=[order_pizza, charge_card])
    fake_openai.reply(tool_calls=[("order_pizza", {"topping": "ham"}), ("charge_card", {"amount": 12})])

    output = agent.run("Order a ham pizza and pay", user_id="alice")

    assert _offered(fake_openai.requests[0], "order_pizza")["properties"] == {"topping": {"type": "string"}}
    assert [r.pause_type for r in output.active_requirements] == ["user_input", "external_execution"]
    # As Agno's, the content says what the last call waits for.
    assert output.content == "I have tools to execute, but it needs external execution."
    output.active_requirements[0].provide_user_input({"size": "large"})
    output.active_requirements[0].set_external_execution_result("Charged 12")
    fake_openai.reply(text="Ordered and paid.")
    agent.continue_run(output)
    assert ran == ["pizza ham large"]
    assert tool_messages(fake_openai.requests[-1]) == ["ordered", "Charged 12"]


def test_agnos_user_control_flow_tools_ask_for_the_fields_the_model_names(agent_on, storage, fake_openai):
    from agno.tools.user_control_flow import UserControlFlowTools

    def fields(*names):
        return {
            "user_input_fields": [
                {"field_name": n, "field_type": "str", "field_description": n} for n in names
            ]
        }

    agent = agent_on(tools=[UserControlFlowTools()])
    fake_openai.reply(tool_calls=[("get_user_input", fields("destination"))])
    fake_openai.reply(tool_calls=[("get_user_input", fields("dates", "budget"))])
    fake_openai.reply(text="Lisbon in May, 2000 EUR.")

    first = agent.run("Plan a trip", user_id="alice")
    assert first.content == "I have tools to execute, but I need user input."
    [asked] = first.active_requirements
    assert [(f.name, f.field_type, f.description) for f in asked.user_input_schema] == [
        ("destination", str, "destination")
    ]
    asked.provide_user_input({"destination": "Lisbon"})
    second = agent.continue_run(
        run_id=first.run_id, session_id=first.session_id, requirements=first.requirements
    )
    [asked_again] = second.active_requirements
    assert asked_again.tool_execution.tool_call_id != asked.tool_execution.tool_call_id
    for field in asked_again.user_input_schema:
        field.value = {"dates": "May", "budget": "2000 EUR"}[field.name]
    final = agent.continue_run(second)

    assert final.status == "completed" and final.content == "Lisbon in May, 2000 EUR."
    assert tool_messages(fake_openai.requests[-1]) == [
        'User inputs retrieved: [{"name": "destination", "value": "Lisbon"}]',
        'User inputs retrieved: [{"name": "dates", "value": "May"}, {"name": "budget", "value": "2000 EUR"}]',
    ]
    assert run_status(storage, final.run_id) == "completed"


def test_agnos_user_feedback_tools_are_refused_not_run_as_stubs(make_model):
    from agno.tools.user_feedback import UserFeedbackTools

    with pytest.raises(NotImplementedError, match="UserFeedbackTools"):
        Agent(model=make_model("chat"), tools=[UserFeedbackTools()])
