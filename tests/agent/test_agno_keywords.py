"""Agno's Agent keywords (issue 31, item 6, and `run(run_id=)`): each written in our words after how
Agno 3.1.10 behaves, run on both storages against the loopback model."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from pydantic import BaseModel

from agentapp.agent import CheckTrigger, InputCheckError, InvalidInput, OutputCheckError, RunIdTaken
from agentapp.agent.hooks import RunInput
from agentapp.agent.memory import MemoryManager, UserMemory


def _system(fake_openai, request: int = -1) -> str:
    return fake_openai.requests[request].body["messages"][0]["content"]


# --- add_datetime_to_context, timezone_identifier, datetime_format, add_name_to_context ---------------
def test_the_current_time_is_in_the_system_message_when_asked(agent_on, fake_openai):
    fake_openai.reply(text="It is late.")
    fake_openai.reply(text="?")
    agent = agent_on(add_datetime_to_context=True, timezone_identifier="Asia/Tokyo")

    agent.run("What time is it?")
    agent.add_datetime_to_context = False
    agent.run("And now?")

    shown = re.search(r"The current time is (.+)\.", _system(fake_openai, 0))
    assert shown is not None
    told = datetime.fromisoformat(shown.group(1))
    assert told.utcoffset() == timedelta(hours=9)
    assert abs(told - datetime.now(UTC)) < timedelta(minutes=5)
    assert "The current time" not in _system(fake_openai, 1)


def test_datetime_format_and_a_bad_timezone_fall_back_as_agno_does(agent_on, fake_openai, caplog):
    fake_openai.reply(text="ok")
    agent = agent_on(add_datetime_to_context=True, timezone_identifier="Mars/Olympus", datetime_format="%Y")

    agent.run("Which year?")

    assert f"The current time is {datetime.now().year}." in _system(fake_openai)
    assert "Mars/Olympus" in caplog.text


def test_the_agents_name_is_in_the_context_only_when_asked(agent_on, fake_openai):
    fake_openai.reply(text="Ada.")
    fake_openai.reply(text="Ada.")
    agent_on(name="Ada", add_name_to_context=True).run("Your name?")
    agent_on(name="Ada").run("Your name?")

    assert "Your name is: Ada." in _system(fake_openai, 0)
    assert "Your name is" not in _system(fake_openai, 1)


# --- run(run_id=) ------------------------------------------------------------------------------------
def test_the_caller_chooses_the_run_id(agent_on, fake_openai):
    fake_openai.reply(text="Hi.")
    agent = agent_on(user_id="sarah", session_id="r")

    output = agent.run("Hello", run_id="my-run-1")

    assert output.run_id == "my-run-1"
    assert agent.get_run_output("my-run-1").content == "Hi."


def test_a_run_id_already_used_is_refused_clearly(agent_on, fake_openai):
    fake_openai.reply(text="Hi.")
    agent = agent_on(user_id="sarah", session_id="r")
    agent.run("Hello", run_id="once")

    with pytest.raises(RunIdTaken, match="already used"):
        agent.run("Again", run_id="once")
    with pytest.raises(RunIdTaken):  # someone else's run has it: refused all the same, nothing told
        agent.run("Mine", run_id="once", user_id="tom", session_id="t")
    assert len(fake_openai.requests) == 1
    assert [m.content for m in agent.get_session_messages()] == ["Hello", "Hi."]


def test_a_badly_formed_run_id_is_refused(agent_on):
    agent = agent_on()
    for bad in ("", "has space", "a/b", "x" * 65):
        with pytest.raises(InvalidInput, match="run_id"):
            agent.run("Hello", run_id=bad)


def test_arun_takes_the_run_id_too(agent_on, fake_openai):
    fake_openai.reply(text="Hi.")
    output = async_to_sync(agent_on(user_id="sarah").arun)("Hello", run_id="async-run")
    assert output.run_id == "async-run"


# --- search_session_history, num_history_sessions (Agno 2's names) -----------------------------------
def _tool_result(fake_openai, request: int = -1) -> str:
    return next(m["content"] for m in fake_openai.requests[request].body["messages"] if m["role"] == "tool")


def _talk(agent, fake_openai, session_id: str, user_id: str, said: str, answered: str) -> None:
    fake_openai.reply(text=answered)
    agent.run(said, session_id=session_id, user_id=user_id)


def test_previous_sessions_of_the_same_person_are_searchable(agent_on, fake_openai):
    agent = agent_on(search_session_history=True, num_history_sessions=2)
    _talk(agent, fake_openai, "tea", "sarah", "I drink green tea.", "Noted: green tea.")
    _talk(agent, fake_openai, "bike", "sarah", "I ride a red bike.", "Noted: a red bike.")
    _talk(agent, fake_openai, "coffee", "tom", "I drink black coffee.", "Noted: coffee.")
    fake_openai.reply(tool_calls=[("get_previous_session_messages", {})])
    fake_openai.reply(text="Tea and a bike.")

    output = agent.run("What did we talk about before?", session_id="now", user_id="sarah")

    found = _tool_result(fake_openai)
    assert "green tea" in found and "red bike" in found
    assert "coffee" not in found  # never another person's
    assert output.content == "Tea and a bike."
    names = [t["function"]["name"] for t in fake_openai.requests[-2].body["tools"]]
    assert "get_previous_session_messages" in names


def test_num_history_sessions_bounds_how_many_sessions_are_read(agent_on, fake_openai):
    agent = agent_on(search_session_history=True, num_history_sessions=1)
    _talk(agent, fake_openai, "old", "sarah", "The old question.", "The old answer.")
    _talk(agent, fake_openai, "new", "sarah", "The new question.", "The new answer.")
    fake_openai.reply(tool_calls=[("get_previous_session_messages", {})])
    fake_openai.reply(text="ok")

    agent.run("My last question?", session_id="third", user_id="sarah")

    found = _tool_result(fake_openai)
    assert "The new question." in found and "The old question." not in found


def test_without_search_session_history_there_is_no_such_tool(agent_on, fake_openai):
    fake_openai.reply(text="ok")
    agent_on(num_history_sessions=3).run("Hello", user_id="sarah")
    assert "tools" not in fake_openai.requests[-1].body or all(
        t["function"]["name"] != "get_previous_session_messages"
        for t in fake_openai.requests[-1].body["tools"]
    )


# --- output_schema -----------------------------------------------------------------------------------
class Movie(BaseModel):
    title: str
    year: int
    genres: list[str] = []


def test_an_output_schema_asks_for_json_and_gives_the_models_value(agent_on, fake_openai):
    fake_openai.reply(text='{"title": "Alien", "year": 1979, "genres": ["horror"]}')
    agent = agent_on(user_id="sarah", output_schema=Movie, markdown=True)

    output = agent.run("A film about space, please.")

    assert output.content == Movie(title="Alien", year=1979, genres=["horror"])
    assert output.content_type == "Movie" and output.status == "completed"
    assert output.to_dict()["content"] == {"title": "Alien", "year": 1979, "genres": ["horror"]}
    asked = fake_openai.requests[0].body["response_format"]
    assert asked["type"] == "json_schema" and asked["json_schema"]["name"] == "Movie"
    assert asked["json_schema"]["schema"]["properties"]["year"]["type"] == "integer"
    assert "Use markdown" not in _system(fake_openai)  # as Agno: no markdown with a schema
    assert '"year": 1979' in agent.get_run_output(output.run_id).content  # stored as the text


def test_the_runs_output_schema_is_for_that_run_only_on_the_responses_api(storage, make_model, fake_openai):
    from agentapp.agent import Agent

    fake_openai.reply(text='```json\n{"title": "Heat", "year": 1995}\n```')
    fake_openai.reply(text="Just text.")
    agent = Agent(model=make_model("responses"), db=storage, user_id="sarah")

    first = agent.run("A film?", output_schema=Movie)
    second = agent.run("Say hi")

    assert first.content == Movie(title="Heat", year=1995)
    assert fake_openai.requests[0].body["text"]["format"]["name"] == "Movie"
    assert second.content == "Just text." and "text" not in fake_openai.requests[1].body


def test_a_reply_that_does_not_match_ends_the_run_with_the_reason_and_keeps_the_text(agent_on, fake_openai):
    fake_openai.reply(text='{"title": "Alien"}')
    agent = agent_on(user_id="sarah", output_schema=Movie)

    output = agent.run("A film?")

    assert output.status == "error"
    assert "output schema Movie" in output.error and "year" in output.error
    assert output.content == '{"title": "Alien"}'
    stored = agent.get_run_output(output.run_id)
    assert stored.status == "error" and stored.content == '{"title": "Alien"}'


def test_a_json_schema_dict_gives_a_dict(agent_on, fake_openai):
    fake_openai.reply(text='{"answer": 42}')
    schema = {"title": "Answer", "type": "object", "properties": {"answer": {"type": "integer"}}}

    output = agent_on(output_schema=schema).run("The answer?")

    assert output.content == {"answer": 42}
    assert fake_openai.requests[0].body["response_format"]["json_schema"]["name"] == "Answer"


def test_a_streamed_run_ends_with_the_schemas_value(agent_on, fake_openai):
    fake_openai.reply(text='{"title": "Up", "year": 2009}')
    agent = agent_on(output_schema=Movie)

    items = list(agent.run("A film?", stream=True, yield_run_output=True))

    assert items[-1].content == Movie(title="Up", year=2009)


def test_an_output_schema_must_be_a_model_or_a_json_schema(agent_on):
    with pytest.raises(TypeError, match="output_schema"):
        agent_on(output_schema=str)


# --- pre_hooks / post_hooks --------------------------------------------------------------------------
def test_a_pre_hook_is_given_what_it_names_and_may_change_what_the_model_is_sent(agent_on, fake_openai):
    seen = {}

    def mask_card(run_input, agent, user_id, session, metadata):
        seen.update(agent=agent, user_id=user_id, session_id=session.session_id, metadata=metadata)
        run_input.input_content = run_input.input_content.replace("4111 1111", "[card]")

    fake_openai.reply(text="Paid.")
    agent = agent_on(pre_hooks=[mask_card], user_id="sarah", session_id="pay")

    output = agent.run("Pay with 4111 1111", metadata={"via": "test"})

    assert output.status == "completed" and output.input == "Pay with [card]"
    assert fake_openai.requests[0].body["messages"][-1]["content"] == "Pay with [card]"
    stored = agent.get_run_output(output.run_id)
    assert stored.input == "Pay with [card]" and "4111" not in str(agent.get_session_messages())
    assert seen == {"agent": agent, "user_id": "sarah", "session_id": "pay", "metadata": {"via": "test"}}


def test_a_pre_hook_refusing_the_input_ends_the_run_before_the_model(agent_on, fake_openai):
    def no_secrets(run_input: RunInput) -> None:
        if "password" in run_input.input_content_string():
            raise InputCheckError("Passwords are not to be shared.", check_trigger=CheckTrigger.PII_DETECTED)

    agent = agent_on(pre_hooks=[no_secrets], user_id="sarah", session_id="pw")

    output = agent.run("My password is hunter2")

    assert output.status == "error" and output.error == "Passwords are not to be shared."
    assert output.content == "Passwords are not to be shared."
    assert fake_openai.requests == []
    assert agent.get_run_output(output.run_id).status == "error"


def test_a_post_hook_sees_the_reply_and_may_refuse_it(agent_on, fake_openai):
    seen = []

    def reviewed(run_output, **everything):
        seen.append((run_output.content, sorted(everything)))
        if "secret" in run_output.content:
            raise OutputCheckError("The reply gave a secret away.")

    fake_openai.reply(text="All fine.")
    fake_openai.reply(text="The secret is 42.")
    agent = agent_on(post_hooks=[reviewed], user_id="sarah", session_id="out")

    fine = agent.run("Hi")
    refused = agent.run("Tell me")

    assert fine.status == "completed" and fine.content == "All fine."
    assert refused.status == "error" and refused.error == "The reply gave a secret away."
    assert refused.content == "The secret is 42."  # the text is kept, as Agno keeps it
    assert seen[0] == (
        "All fine.",
        ["agent", "debug_mode", "metadata", "run_context", "session", "user_id"],
    )


def test_a_hook_that_fails_otherwise_is_logged_and_the_run_goes_on(agent_on, fake_openai, caplog):
    def broken() -> None:
        raise RuntimeError("hook bug")

    fake_openai.reply(text="Still here.")
    output = agent_on(pre_hooks=[broken], post_hooks=[broken]).run("Hi")

    assert output.status == "completed" and output.content == "Still here."
    failures = [r for r in caplog.records if "the run goes on" in r.getMessage()]
    assert len(failures) == 2 and all("hook bug" in str(r.exc_info[1]) for r in failures)


def test_agnos_own_check_errors_are_honoured(agent_on, fake_openai):
    from agno.exceptions import InputCheckError as AgnoInputCheckError

    def refuse() -> None:
        raise AgnoInputCheckError("Off topic.")

    output = agent_on(pre_hooks=[refuse]).run("Hi")

    assert output.status == "error" and output.error == "Off topic."


def test_a_guardrail_object_is_its_check(agent_on, fake_openai):
    class NoShouting:
        def check(self, run_input) -> None:
            if run_input.input_content.isupper():
                raise InputCheckError("No shouting.")

        async def async_check(self, run_input) -> None:
            self.check(run_input)

    fake_openai.reply(text="ok")
    agent = agent_on(pre_hooks=[NoShouting()])

    assert agent.run("HELLO").error == "No shouting."
    assert async_to_sync(agent.arun)("HELLO").error == "No shouting."
    assert agent.run("hello").status == "completed"


def test_async_hooks_run_with_arun_and_are_refused_by_run(agent_on, fake_openai):
    calls = []

    async def before(run_input) -> None:
        calls.append(("pre", run_input.input_content))

    async def after(run_output) -> None:
        calls.append(("post", run_output.content))
        raise OutputCheckError("Not today.")

    fake_openai.reply(text="Reply.")
    agent = agent_on(pre_hooks=[before], post_hooks=[after])

    output = async_to_sync(agent.arun)("Hi")

    assert calls == [("pre", "Hi"), ("post", "Reply.")]
    assert output.status == "error" and output.error == "Not today."
    with pytest.raises(ValueError, match="arun"):
        agent.run("Hi")


def test_a_hook_must_be_callable(agent_on):
    with pytest.raises(TypeError, match="callable"):
        agent_on(pre_hooks=["not a hook"])


# --- debug_mode, cache_session, store_media ----------------------------------------------------------
def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def _debug_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "agentapp.agent.debug"]


def test_debug_mode_logs_the_runs_steps_as_agno_does(agent_on, fake_openai, caplog):
    caplog.set_level(logging.DEBUG, logger="agentapp.agent.debug")
    fake_openai.reply(tool_calls=[("lookup_weather", {"city": "Porto"})])
    fake_openai.reply(text="Sunny.")
    agent = agent_on(debug_mode=True, tools=[lookup_weather], user_id="sarah")

    output = agent.run("Weather in Porto?")

    lines = _debug_lines(caplog)
    assert lines[0] == f"*********** Agent Run Start: {output.run_id} ***********"
    assert "Weather in Porto?" in lines and "============== system ==============" in lines
    assert 'Running: lookup_weather({"city": "Porto"})' in lines
    assert "Sunny." in lines and lines[-1].startswith(f"*********** Agent Run End: {output.run_id}")


def test_debug_mode_is_off_unless_asked_and_run_may_ask_for_one_run(agent_on, fake_openai, caplog):
    caplog.set_level(logging.DEBUG, logger="agentapp.agent.debug")
    fake_openai.reply(text="Quiet.")
    fake_openai.reply(text="Loud.")
    agent = agent_on()

    agent.run("Hi")
    assert _debug_lines(caplog) == []
    agent.run("Hi again", debug_mode=True)
    assert "Loud." in _debug_lines(caplog)
    assert agent.debug_mode is False


def test_cache_session_and_store_media_are_accepted(agent_on, fake_openai):
    fake_openai.reply(text="ok")
    agent = agent_on(cache_session=True, store_media=False, user_id="sarah")

    assert agent.run("Hi").status == "completed"
    assert agent.cache_session is True and agent.store_media is False


# --- UserMemory.input and .agent_id (item 10) --------------------------------------------------------
def test_a_memorys_input_and_agent_id_are_stored_and_returned(storage):
    written = storage.upsert_user_memory(
        UserMemory(memory="Likes green tea", user_id="sarah", input="I love green tea", agent_id="barista")
    )

    found = storage.get_user_memory(written.memory_id, "sarah")
    assert (found.input, found.agent_id) == ("I love green tea", "barista")
    listed = storage.get_user_memories("sarah")
    assert [(m.input, m.agent_id) for m in listed] == [("I love green tea", "barista")]
    assert storage.get_user_memories("sarah", deserialize=False)[0][0]["input"] == "I love green tea"


def test_a_memory_without_them_has_none(storage):
    written = MemoryManager(db=storage).add_user_memory(UserMemory(memory="Rides a bike"), user_id="tom")

    found = storage.get_user_memory(written, "tom")
    assert found.input is None and found.agent_id is None
    assert "input" not in found.to_dict()


@pytest.mark.django_db
def test_the_persons_export_holds_a_memorys_input_and_agent_id():
    from django.contrib.auth.models import User

    from agentapp.accounts.services import user_data_export
    from agentapp.db import DjangoDb

    DjangoDb().upsert_user_memory(
        UserMemory(memory="Likes tea", user_id="sarah", input="I like tea", agent_id="barista")
    )

    [memory] = user_data_export(user=User.objects.get(username="sarah"))["memories"]
    assert (memory["input"], memory["agent_id"]) == ("I like tea", "barista")


def test_an_async_pre_hooks_change_is_stored_too(agent_on, fake_openai):
    async def mask(run_input) -> None:
        run_input.input_content = run_input.input_content.replace("hunter2", "***")

    fake_openai.reply(text="Noted.")
    agent = agent_on(pre_hooks=[mask], user_id="sarah", session_id="m")

    output = async_to_sync(agent.arun)("My password is hunter2")

    assert fake_openai.requests[0].body["messages"][-1]["content"] == "My password is ***"
    assert agent.get_run_output(output.run_id).input == "My password is ***"


class _NoResponseFormat:
    """A model that cannot be asked for JSON by schema (it only passes requests on)."""

    def __init__(self, inner) -> None:
        self.inner, self.id, self.provider = inner, inner.id, inner.provider

    def request(self, messages, tools=()):
        return self.inner.request(messages, tools)

    def stream(self, messages, tools=()):
        return self.inner.stream(messages, tools)

    async def arequest(self, messages, tools=()):
        return await self.inner.arequest(messages, tools)

    def astream(self, messages, tools=()):
        return self.inner.astream(messages, tools)


def test_a_model_without_response_format_is_told_the_schema(storage, make_model, fake_openai):
    from agentapp.agent import Agent

    fake_openai.reply(text='{"title": "Jaws", "year": 1975}')
    agent = Agent(model=_NoResponseFormat(make_model("chat")), db=storage, output_schema=Movie)

    output = agent.run("A film?")

    assert output.content == Movie(title="Jaws", year=1975)
    assert "response_format" not in fake_openai.requests[0].body
    assert "<json_schema>" in _system(fake_openai) and '"year"' in _system(fake_openai)


def test_print_response_shows_a_schemas_value_as_json(agent_on, fake_openai):
    fake_openai.reply(text='{"title": "Alien", "year": 1979}')
    out = io.StringIO()

    output = agent_on(output_schema=Movie, markdown=True).print_response("A film?", file=out)

    assert output.content == Movie(title="Alien", year=1979)
    assert json.loads(out.getvalue()) == {"title": "Alien", "year": 1979, "genres": []}
