"""Human in the loop, as Agno 3.1.10 has it: a tool made with `@tool(requires_confirmation=True)`
pauses the run when the model calls it; the caller confirms or rejects it and `continue_run` (or
`acontinue_run`) goes on from there, on either storage, from the stored run too."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from agentapp.agent import Agent, InMemoryDb, RunNotFound, RunStatus, tool
from agentapp.db import DjangoDb
from tests.agent.hitl_helpers import run_status, tool_messages

deleted: list[str] = []


@tool(requires_confirmation=True)
def delete_file(path: str) -> str:
    """Delete a file."""
    deleted.append(path)
    return f"{path} deleted"


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


@pytest.fixture(autouse=True)
def _nothing_deleted():
    deleted.clear()


def _paused(agent_on, fake_openai, **kwargs):
    agent = agent_on(tools=[delete_file, get_weather], **kwargs)
    fake_openai.reply(tool_calls=[("delete_file", {"path": "notes.txt"})])
    output = agent.run("Delete notes.txt", user_id="alice")
    return agent, output


def test_a_tool_that_needs_confirmation_pauses_the_run_and_is_not_run(agent_on, storage, fake_openai):
    _, output = _paused(agent_on, fake_openai)

    assert output.is_paused
    assert output.status == RunStatus.paused and output.status == "PAUSED"
    assert deleted == []
    [pending] = output.tools_requiring_confirmation
    assert pending.tool_name == "delete_file" and pending.requires_confirmation
    assert json.loads(pending.tool_args) == {"path": "notes.txt"}
    [requirement] = output.active_requirements
    assert requirement.needs_confirmation and requirement.tool_execution is pending
    assert run_status(storage, output.run_id) == "paused"
    assert len(fake_openai.requests) == 1


def test_confirmed_the_tool_runs_and_the_reply_is_stored(agent_on, storage, fake_openai):
    agent, output = _paused(agent_on, fake_openai)
    for pending in output.tools_requiring_confirmation:
        pending.confirmed = True
    fake_openai.reply(text="Deleted notes.txt.")

    final = agent.continue_run(run_response=output)

    assert final.status == "completed" and final.content == "Deleted notes.txt."
    assert deleted == ["notes.txt"]
    assert tool_messages(fake_openai.requests[-1]) == ["notes.txt deleted"]
    assert not final.is_paused and final.active_requirements == []
    [ran] = final.tools
    assert ran.confirmed is True and ran.result == "notes.txt deleted"
    assert run_status(storage, output.run_id) == "completed"
    [stored] = agent.get_session(session_id=output.session_id).runs
    roles = [m.role for m in stored.messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert stored.messages[-1].content == "Deleted notes.txt."


def test_rejected_the_model_is_told_and_the_tool_never_runs(agent_on, storage, fake_openai):
    agent, output = _paused(agent_on, fake_openai)
    output.active_requirements[0].reject("Keep that file")
    fake_openai.reply(text="I left notes.txt alone.")

    final = agent.continue_run(run_response=output)

    assert deleted == []
    assert tool_messages(fake_openai.requests[-1]) == ["Keep that file"]
    assert final.status == "completed" and final.content == "I left notes.txt alone."
    [rejected] = final.tools
    assert rejected.confirmed is False and rejected.tool_call_error


def test_left_unanswered_a_confirmation_counts_as_rejected_as_in_agno(agent_on, fake_openai):
    agent, output = _paused(agent_on, fake_openai)
    fake_openai.reply(text="Not deleted.")

    agent.continue_run(run_response=output)

    assert deleted == []
    assert tool_messages(fake_openai.requests[-1]) == ["Function call was rejected by the user"]


def test_other_tools_of_the_same_round_run_before_the_pause(agent_on, fake_openai):
    agent = agent_on(tools=[delete_file, get_weather])
    fake_openai.reply(tool_calls=[("get_weather", {"city": "Oslo"}), ("delete_file", {"path": "a.txt"})])

    output = agent.run("Weather, then delete a.txt", user_id="alice")

    assert output.is_paused
    assert [(t.tool_name, t.result) for t in output.tools] == [
        ("get_weather", "Sunny in Oslo"),
        ("delete_file", None),
    ]
    output.active_requirements[0].confirm()
    fake_openai.reply(text="Done.")
    agent.continue_run(run_response=output)
    assert tool_messages(fake_openai.requests[-1]) == ["Sunny in Oslo", "a.txt deleted"]


# An async run's storage work is on other threads, whose connections commit: a transactional test.
@pytest.mark.parametrize(
    "db", [pytest.param("django", marks=pytest.mark.django_db(transaction=True)), "in_memory"]
)
def test_acontinue_run_continues_an_async_run(db, make_model, fake_openai):
    storage = DjangoDb() if db == "django" else InMemoryDb()
    agent = Agent(model=make_model("chat"), db=storage, tools=[delete_file])
    fake_openai.reply(tool_calls=[("delete_file", {"path": "b.txt"})])
    fake_openai.reply(text="Deleted b.txt.")

    async def go():
        output = await agent.arun("Delete b.txt", user_id="alice")
        assert output.is_paused
        output.active_requirements[0].confirm()
        return await agent.acontinue_run(run_response=output)

    final = asyncio.run(go())
    assert final.content == "Deleted b.txt." and deleted == ["b.txt"]


def test_the_streams_say_paused_then_continued_in_agnos_order(agent_on, fake_openai):
    agent = agent_on(tools=[delete_file])
    fake_openai.reply(tool_calls=[("delete_file", {"path": "c.txt"})])
    fake_openai.reply(text="Deleted c.txt.")

    first = list(agent.run("Delete c.txt", stream=True, stream_events=True))
    assert [e.event for e in first] == [
        "RunStarted",
        "ModelRequestStarted",
        "ModelRequestCompleted",
        "RunPaused",
    ]
    paused = first[-1]
    assert paused.is_paused and [t.tool_name for t in paused.tools] == ["delete_file"]
    paused.active_requirements[0].confirm()

    second = list(
        agent.continue_run(
            run_id=paused.run_id, requirements=paused.requirements, stream=True, stream_events=True
        )
    )
    names = [e.event for e in second if e.event != "RunContent"]
    assert names == [
        "RunContinued",
        "ToolCallStarted",
        "ToolCallCompleted",
        "ModelRequestStarted",
        "ModelRequestCompleted",
        "RunContentCompleted",
        "RunCompleted",
    ]
    assert second[-1].content == "Deleted c.txt."


def test_without_stream_events_the_pause_is_still_shown_as_agnos_loop_expects(agent_on, fake_openai):
    agent = agent_on(tools=[delete_file])
    fake_openai.reply(tool_calls=[("delete_file", {"path": "d.txt"})])
    fake_openai.reply(text="Deleted d.txt.")

    events = list(agent.run("Delete d.txt", stream=True))

    assert [e.event for e in events] == ["RunPaused"]
    replies = []
    for event in events:  # as Agno's cookbook loops: every event says whether it paused
        if event.is_paused:
            for requirement in event.active_requirements:
                requirement.confirm()
            for later in agent.continue_run(
                run_id=event.run_id, requirements=event.requirements, stream=True
            ):
                assert not later.is_paused
                replies.append(later.content)
    assert "".join(replies) == "Deleted d.txt." and deleted == ["d.txt"]


@pytest.mark.django_db
def test_a_paused_run_is_continued_by_another_agent_from_the_database(make_model, fake_openai):
    first = Agent(model=make_model("chat"), db=DjangoDb(), tools=[delete_file])
    fake_openai.reply(tool_calls=[("delete_file", {"path": "e.txt"})])
    paused = first.run("Delete e.txt", user_id="alice")

    later = Agent(model=make_model("chat"), db=DjangoDb(), tools=[delete_file])
    [requirement] = later.get_run_output(
        run_id=paused.run_id, session_id=paused.session_id
    ).active_requirements
    requirement.confirm()
    fake_openai.reply(text="Deleted e.txt.")
    final = later.continue_run(
        run_id=paused.run_id, session_id=paused.session_id, requirements=[requirement], user_id="alice"
    )

    assert final.status == "completed" and deleted == ["e.txt"]
    assert tool_messages(fake_openai.requests[-1]) == ["e.txt deleted"]
    from sessions_app.models import Message

    stored = Message.objects.filter(run__run_id=paused.run_id).order_by("position")
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]


@pytest.mark.django_db
def test_a_paused_run_is_not_swept_and_does_not_hold_up_the_session(make_model, fake_openai):
    from sessions_app.models import Run
    from sessions_app.services.sweep import runs_sweep_stale

    agent = Agent(model=make_model("chat"), db=DjangoDb(), tools=[delete_file])
    fake_openai.reply(tool_calls=[("delete_file", {"path": "f.txt"})])
    output = agent.run("Delete f.txt", user_id="alice")

    assert runs_sweep_stale(older_than=timedelta(0)) == 0
    assert Run.objects.get(run_id=output.run_id).is_finished  # no stream or page waits on it
    fake_openai.reply(text="Hello again.")
    after = agent.run("Something else", user_id="alice", session_id=output.session_id)
    assert after.status == "completed"
    assert Run.objects.get(run_id=output.run_id).status == "paused"


def test_another_person_cannot_continue_someone_elses_paused_run(agent_on, storage, fake_openai):
    agent, output = _paused(agent_on, fake_openai)
    output.active_requirements[0].confirm()

    with pytest.raises(RunNotFound):
        agent.continue_run(run_response=output, user_id="mallory")
    with pytest.raises(RunNotFound):
        agent.continue_run(
            run_id=output.run_id,
            session_id=output.session_id,
            requirements=output.requirements,
            user_id="mallory",
        )
    assert deleted == [] and run_status(storage, output.run_id) == "paused"
    assert len(fake_openai.requests) == 1


def test_a_run_that_is_not_paused_is_not_continued(agent_on, fake_openai):
    agent = agent_on(tools=[delete_file])
    fake_openai.reply(text="Hi.")
    done = agent.run("Hi", user_id="alice")

    with pytest.raises(ValueError):
        agent.continue_run(run_response=done)


def test_a_tool_made_with_agnos_own_decorator_pauses_too(agent_on, fake_openai):
    from agno.tools import tool as agno_tool

    @agno_tool(requires_confirmation=True)
    def wipe_disk(disk: str) -> str:
        """Wipe a disk."""
        deleted.append(disk)
        return f"{disk} wiped"

    agent = agent_on(tools=[wipe_disk])
    fake_openai.reply(tool_calls=[("wipe_disk", {"disk": "sda"})])

    output = agent.run("Wipe sda", user_id="alice")

    assert output.is_paused and deleted == []
    assert [t.tool_name for t in output.tools_requiring_confirmation] == ["wipe_disk"]
