from __future__ import annotations

import pytest

from sessions_app.models import Run


@pytest.fixture
def tool_run(make_agent, fake_openai, alice) -> Run:
    """A real run of alice's: a request that calls add_memory, the tool call, a second request."""
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "User likes green tea", "topics": ["drinks"]})], delay=0.05
    )
    fake_openai.reply(text="Noted: you like green tea.", delay=0.03)
    agent = make_agent("chat", enable_agentic_memory=True)
    output = agent.run("I like green tea", user_id="alice", session_id="alice-thread")
    return Run.objects.select_related("session", "user").get(run_id=output.run_id)
