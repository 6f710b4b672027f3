"""A session_id belongs to one user; memory tools only ever touch the run's own user."""

from __future__ import annotations

import pytest

from agentapp.errors import SessionOwnedByAnotherUser
from memory_app.models import Memory
from sessions_app.models import Run

pytestmark = pytest.mark.django_db


def test_running_with_another_users_session_id_raises_and_reads_nothing(make_agent, fake_openai):
    fake_openai.reply(text="Hi Alice, your secret is safe.")
    agent = make_agent("chat", add_history_to_context=True)
    agent.run("My secret is 1234", user_id="alice", session_id="thread-1")

    with pytest.raises(SessionOwnedByAnotherUser, match="belongs to another user"):
        agent.run("What was the secret?", user_id="bob", session_id="thread-1")

    assert len(fake_openai.requests) == 1  # no model call was made for bob
    assert Run.objects.filter(user__username="bob").count() == 0
    assert Run.objects.count() == 1


def test_reading_another_users_session_raises(make_agent, fake_openai):
    fake_openai.reply(text="ok")
    agent = make_agent("chat")
    agent.run("hello", user_id="alice", session_id="thread-1")

    with pytest.raises(SessionOwnedByAnotherUser):
        agent.get_chat_history("thread-1", user_id="bob")
    assert [m.content for m in agent.get_chat_history("thread-1", user_id="alice")] == ["hello", "ok"]


def test_a_memory_tool_cannot_touch_another_users_memory_by_id(make_agent, fake_openai):
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Alice likes tea"})])
    fake_openai.reply(text="Noted.")
    agent = make_agent("chat", enable_agentic_memory=True)
    agent.run("I like tea", user_id="alice", session_id="a1")
    alice_memory = Memory.objects.get()

    fake_openai.reply(
        tool_calls=[
            ("update_memory", {"memory_id": alice_memory.memory_id, "memory": "Alice likes coffee"}),
            ("delete_memory", {"memory_id": alice_memory.memory_id}),
        ]
    )
    fake_openai.reply(text="Done.")
    output = agent.run("Change Alice's memory", user_id="bob", session_id="b1")

    assert output.status == "completed"
    alice_memory.refresh_from_db()
    assert alice_memory.text == "Alice likes tea" and alice_memory.deleted_at is None
    tool_results = [m for m in fake_openai.requests[-1].body["messages"] if m["role"] == "tool"]
    assert all("not found" in m["content"] for m in tool_results)
    assert alice_memory.changes.count() == 1


def test_the_same_username_in_different_case_is_a_different_user(make_agent, fake_openai):
    fake_openai.reply(text="ok")
    make_agent("chat").run("hello", user_id="alice", session_id="thread-1")
    with pytest.raises(SessionOwnedByAnotherUser):
        make_agent("chat").run("hello", user_id="Alice", session_id="thread-1")
