"""Agno's session record and verbs (issue 31, items 1 and 10): `AgentSession` with `session_data`,
`runs`, `summary`, `to_dict` / `from_dict`; `session_type=` and `deserialize=` on the storage's
session verbs; `set_session_name` returning the session, `rename`, `save_session`. Ported in our words
from Agno's `db/*/test_session.py` and `session/` unit tests, on both storages."""

from __future__ import annotations

import pytest

from agentapp.agent import AgentSession, RunStatus, SessionOwnedByAnotherUser, SessionType


def sample_session(session_id: str = "trip", user_id: str | None = "sarah") -> AgentSession:
    return AgentSession(
        session_id=session_id,
        agent_id="travel-agent",
        user_id=user_id,
        session_data={"session_name": "Trip to Lisbon", "session_state": {"city": "Lisbon"}},
    )


def test_an_agent_session_is_built_and_read_with_agnos_keywords():
    session = sample_session()

    assert (session.session_id, session.agent_id, session.user_id) == ("trip", "travel-agent", "sarah")
    assert session.session_data == {"session_name": "Trip to Lisbon", "session_state": {"city": "Lisbon"}}
    assert (session.title, session.session_state, session.agent_name) == (
        "Trip to Lisbon",
        {"city": "Lisbon"},
        "travel-agent",
    )
    session.session_data = {"session_name": "Trip to Porto"}  # mutable, as Agno's
    assert session.title == "Trip to Porto" and session.runs == [] and session.summary is None


def test_upsert_then_get_by_session_type_on_either_storage(storage):
    stored = storage.upsert_session(sample_session())

    assert isinstance(stored, AgentSession)
    assert (stored.agent_id, stored.user_id, stored.session_data["session_name"]) == (
        "travel-agent",
        "sarah",
        "Trip to Lisbon",
    )
    found = storage.get_session("trip", session_type=SessionType.AGENT)
    assert found.session_state == {"city": "Lisbon"}
    assert storage.get_session("trip", user_id="sarah", session_type=SessionType.AGENT) is not None
    assert storage.get_session("trip", user_id="bob", session_type=SessionType.AGENT) is None
    # Only agents' sessions are kept here: a team's or a workflow's is never found.
    assert storage.get_session("trip", session_type=SessionType.TEAM) is None
    assert storage.get_sessions(session_type=SessionType.WORKFLOW) == []
    assert [s.session_id for s in storage.get_sessions(session_type=SessionType.AGENT)] == ["trip"]


def test_without_deserialize_the_verbs_answer_dicts(storage):
    as_dict = storage.upsert_session(sample_session(), deserialize=False)

    assert isinstance(as_dict, dict) and as_dict["session_id"] == "trip"
    assert storage.get_session("trip", deserialize=False)["session_data"]["session_name"] == "Trip to Lisbon"
    assert [s["session_id"] for s in storage.get_sessions(deserialize=False)] == ["trip"]
    renamed = storage.rename_session("trip", "Lisbon in May", deserialize=False)
    assert renamed["session_data"]["session_name"] == "Lisbon in May"


def test_a_session_upserted_without_a_person_belongs_to_the_default_user(storage):
    stored = storage.upsert_session(sample_session("nobodys", user_id=None))

    assert stored.user_id == "default"
    assert storage.get_session("nobodys", user_id="default") is not None


def test_another_persons_session_id_is_still_refused(storage):
    storage.upsert_session(sample_session())

    with pytest.raises(SessionOwnedByAnotherUser):
        storage.upsert_session(sample_session(user_id="bob"))


def test_the_session_of_a_run_has_its_runs_summary_and_round_trips_through_a_dict(agent_on, fake_openai):
    fake_openai.reply(text="Lisbon is lovely in May.")
    fake_openai.reply(text="The user plans a trip to Lisbon.\nTopics: travel")
    agent = agent_on(enable_session_summaries=True)
    output = agent.run("Where should I go?", user_id="sarah", session_id="trip")

    session = agent.get_session("trip")

    assert [r.run_id for r in session.runs] == [output.run_id]
    assert session.runs[0].status == RunStatus.completed
    assert session.get_run(output.run_id).content == "Lisbon is lovely in May."
    assert [m.content for m in session.get_chat_history()] == [
        "Where should I go?",
        "Lisbon is lovely in May.",
    ]
    assert session.summary.summary == "The user plans a trip to Lisbon."
    assert agent.db.get_session("trip").summary.topics == ["travel"]
    again = AgentSession.from_dict(session.to_dict())
    assert again == session
    assert again.runs[0].status is RunStatus.completed and again.runs[0].messages == session.runs[0].messages
    assert AgentSession.from_dict({"agent_id": "no id"}) is None


def test_set_session_name_returns_the_session_and_rename_and_save_session_store(agent_on, fake_openai):
    fake_openai.reply(text="Hello.")
    agent = agent_on(user_id="sarah", session_id="s1")
    agent.run("Hi")

    named = agent.set_session_name(session_name="Greetings")
    assert isinstance(named, AgentSession) and named.session_data["session_name"] == "Greetings"
    agent.rename("Hellos")
    assert agent.get_session_name() == "Hellos"

    session = agent.get_session()
    session.session_data = {"session_name": "Saved", "session_state": {"mood": "good"}}
    agent.save_session(session)
    assert (agent.get_session_name(), agent.get_session_state()) == ("Saved", {"mood": "good"})


def test_a_sessions_messages_as_agno_filters_them(agent_on, fake_openai):
    fake_openai.reply(tool_calls=[("get_chat_history", {})])
    fake_openai.reply(text="Nothing before.")
    fake_openai.reply(status=401, error="invalid key")
    fake_openai.reply(text="Second.")
    agent = agent_on(user_id="sarah", session_id="m", read_chat_history=True)
    agent.run("First?")
    agent.run("Fails")
    agent.run("Second?")

    session = agent.get_session()

    assert [r.status for r in session.runs] == ["completed", "error", "completed"]
    roles = [m.role for m in session.get_messages()]
    assert roles == ["user", "assistant", "tool", "assistant", "user", "assistant"]  # the failed run left out
    assert [m.content for m in session.get_messages(last_n_runs=1)] == ["Second?", "Second."]
    assert [m.role for m in session.get_messages(limit=4)] == ["assistant", "user", "assistant"]
    assert [m.role for m in session.get_messages(skip_roles=["tool"])].count("tool") == 0
    assert [call.name for call in session.get_tool_calls()] == ["get_chat_history"]
    assert session.get_session_summary() is None


def test_get_sessions_narrows_by_agent_and_by_when_a_session_began(storage):
    storage.upsert_session(sample_session("a"))
    storage.upsert_session(AgentSession(session_id="b", agent_id="other-agent", user_id="sarah"))
    began = storage.get_session("a").created_at.timestamp()

    assert [s.session_id for s in storage.get_sessions(component_id="other-agent")] == ["b"]
    assert {s.session_id for s in storage.get_sessions(start_timestamp=int(began))} == {"a", "b"}
    assert storage.get_sessions(end_timestamp=int(began) - 60) == []
    assert len(storage.get_sessions(start_timestamp=0, limit=1, page=2)) == 1


def test_a_session_built_in_code_holds_run_outputs_as_agnos_does():
    from agentapp.agent import Message, RunOutput

    run = RunOutput(
        run_id="r1",
        agent_id="travel-agent",
        status=RunStatus.completed,
        messages=[Message(role="user", content="Hi"), Message(role="assistant", content="Hello.")],
    )
    session = AgentSession(session_id="built", agent_id="travel-agent", runs=[run])

    assert RunOutput(run_id="r0").status == RunStatus.running
    assert [m.content for m in session.get_chat_history()] == ["Hi", "Hello."]
    assert session.to_dict()["runs"][0]["status"] == "COMPLETED"
    assert AgentSession.from_dict(session.to_dict()).runs[0].run_id == "r1"
