from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from sessions_app.models import AgentSession, Run
from tests import factories
from tests.fake_openai import RecordedRequest, Reply

SUMMARY_MARKER = "running summary"


def is_summary_request(request: RecordedRequest) -> bool:
    messages = request.body.get("messages") or []
    return bool(messages) and SUMMARY_MARKER in (messages[0].get("content") or "")


def summary_input(request: RecordedRequest) -> str:
    """Everything a summary request sends: the instructions, the current summary, the new turns."""
    return "\n".join(m["content"] for m in request.body["messages"])


def summary_turns(request: RecordedRequest) -> str:
    """The user message of a summary request: only the new turns."""
    return request.body["messages"][-1]["content"]


@dataclass
class Thread:
    session: AgentSession
    add: Callable[..., Run]

    @property
    def session_id(self) -> str:
        return self.session.session_id


@pytest.fixture
def thread(alice) -> Thread:
    """Alice's session, and `add(text)` to store a completed run in it (user message + reply)."""
    session = AgentSession.objects.create(session_id="thread-1", user=alice)

    def add(text: str, reply: str | None = None, status: str = Run.Status.COMPLETED) -> Run:
        return factories.finished_run(
            session, text, reply if reply is not None else f"reply to {text}", status=status
        )

    return Thread(session, add)


@pytest.fixture
def summaries(app_model):
    """The loopback model answering every summary request with 'Summary N' and topics."""
    count = {"n": 0}

    def respond(request: RecordedRequest) -> Reply | None:
        if is_summary_request(request):
            count["n"] += 1
            return Reply(text=f"Summary {count['n']}.\nTopics: travel, food")
        return Reply(text="A short reply.")

    app_model.responder = respond
    return app_model
