"""In a script (follow-ups inline, done when `run()` returns, as Agno's), the automatic memory update
asks its first request alongside the reply, and the summary is made once the reply is stored: the
same memories, summary and stored rows as one after another, in either order of the two answers."""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Sequence

import pytest
from asgiref.sync import async_to_sync

from agentapp.agent import Agent, FollowupJob
from agentapp.agent.records import RunHandle
from agentapp.agent.run.alongside import THREAD_NAME
from agentapp.agent.session.summaries import SUMMARY_INSTRUCTIONS
from agentapp.db import DjangoDb
from memory_app.models import Memory, MemoryChange
from sessions_app.models import Message, Run, RunEvent, SessionSummary
from tests.fake_openai import MEMORY_MANAGER_LANE, RecordedRequest, Reply, request_lane

pytestmark = pytest.mark.django_db


class DoneHere:
    """Takes nothing, as RunInline, but is not it: the jobs run one after another after the reply
    (what every script did before the overlap)."""

    def dispatch(self, *, run: RunHandle, jobs: Sequence[FollowupJob]) -> Collection[FollowupJob]:
        return ()


class Script:
    """The loopback model's answers by who asks: the reply, the memory manager (a fact, then "Done."),
    the summary. `order` puts the memory manager's first answer before the reply's or after it."""

    def __init__(self, order: str = "memory first") -> None:
        self.order = order
        self.manager_arrived = threading.Event()
        self.reply_sent: threading.Event | None = None
        self.reply_finished_when_manager_arrived: bool | None = None
        self.manager_requests = 0

    def __call__(self, request: RecordedRequest) -> Reply:
        if request_lane(request.body) == MEMORY_MANAGER_LANE:
            self.manager_requests += 1
            if self.manager_requests > 1:
                return Reply(text="Done.")
            self.reply_finished_when_manager_arrived = (
                self.reply_sent is not None and self.reply_sent.is_set()
            )
            self.manager_arrived.set()
            hold = self.reply_sent if self.order == "reply first" else None
            return Reply(tool_calls=[("add_memory", {"memory": "User is called Sarah"})], hold=hold)
        if str(request.body["messages"][0]["content"]).startswith(SUMMARY_INSTRUCTIONS):
            return Reply(text="- Sarah introduced herself.\nTopics: introductions")
        reply = Reply(text="Nice to meet you, Sarah.")
        self.reply_sent = reply.sent
        if self.order == "memory first":
            reply.hold = self.manager_arrived  # answered only once the manager's request is in
        return reply


def _agent(make_model, followups=None) -> Agent:
    kwargs = {"followups": followups} if followups is not None else {}
    return Agent(
        model=make_model("chat"),
        db=DjangoDb(),
        update_memory_on_run=True,
        enable_session_summaries=True,
        **kwargs,
    )


def _stored() -> dict[str, object]:
    """What the turns stored, without their times and ids."""
    events = [
        (e.kind, _without_times(e.name), _without_times(e.payload))
        for e in RunEvent.objects.order_by("kind", "name", "id")
    ]
    return {
        "memories": sorted(Memory.objects.values_list("text", flat=True)),
        "changes": list(MemoryChange.objects.values_list("actor", "action")),
        "summary": list(SessionSummary.objects.values_list("text", flat=True)),
        "runs": list(Run.objects.values_list("status", "content")),
        "messages": list(Message.objects.order_by("id").values_list("role", "content")),
        "events": sorted(events, key=repr),
    }


def _without_times(payload: object) -> object:
    """`payload` without what differs from one run to the next: times, ids."""
    if isinstance(payload, dict):
        return {
            key: _without_times(value)
            for key, value in payload.items()
            if key not in ("ttft_ms", "duration_ms", "run_ids", "previous_last_run_id", "trace_id")
        }
    if isinstance(payload, list):
        return [_without_times(item) for item in payload]
    if isinstance(payload, str):  # ids made anew each time: the memory's, the fake's tool call's
        return re.sub(r"call_\d+", "call_*", re.sub(r"mem_[0-9a-f]+", "mem_*", payload))
    return payload


def test_the_memory_request_arrives_while_the_reply_is_still_being_answered(make_model, fake_openai):
    script = Script("memory first")
    fake_openai.responder = script

    output = _agent(make_model).run("I'm Sarah", user_id="sarah", session_id="t", stream=False)

    assert output.status == "completed"
    assert script.reply_finished_when_manager_arrived is False
    assert list(Memory.objects.values_list("text", flat=True)) == ["User is called Sarah"]


def test_a_streamed_run_overlaps_too(make_model, fake_openai):
    script = Script("memory first")
    fake_openai.responder = script

    events = list(_agent(make_model).run("I'm Sarah", user_id="sarah", session_id="t", stream=True))

    assert "".join(e.content for e in events if hasattr(e, "content")) == "Nice to meet you, Sarah."
    assert script.reply_finished_when_manager_arrived is False


def test_arun_overlaps_too(make_model, fake_openai):
    script = Script("memory first")
    fake_openai.responder = script

    output = async_to_sync(_agent(make_model).arun)("I'm Sarah", user_id="sarah", session_id="t")

    assert output.status == "completed"
    assert script.reply_finished_when_manager_arrived is False
    assert list(Memory.objects.values_list("text", flat=True)) == ["User is called Sarah"]


@pytest.mark.parametrize("order", ["memory first", "reply first"])
def test_the_same_memories_summary_and_rows_as_one_after_another(make_model, fake_openai, order):
    fake_openai.responder = Script("sequential")
    before = _agent(make_model, DoneHere()).run("I'm Sarah", user_id="sarah", session_id="t")
    sequential = _stored()
    assert before.status == "completed" and sequential["memories"] == ["User is called Sarah"]
    assert sequential["summary"] == ["- Sarah introduced herself."]
    Run.objects.all().delete()
    Memory.objects.all().delete()
    MemoryChange.objects.all().delete()
    SessionSummary.objects.all().delete()

    fake_openai.responder = Script(order)
    events = list(
        _agent(make_model).run("I'm Sarah", user_id="sarah", session_id="t", stream=True, stream_events=True)
    )

    assert _stored() == sequential
    names = [type(e).__name__ for e in events]
    tail = names[names.index("MemoryUpdateStarted") :]
    assert tail == [
        "MemoryUpdateStarted",
        "MemoryUpdated",
        "MemoryUpdateCompleted",
        "SessionSummaryStarted",
        "SessionSummaryCompleted",
        "RunCompleted",
    ]


def test_a_failed_memory_request_leaves_the_reply_completed_and_is_recorded(make_model, fake_openai):
    fake_openai.reply(status=500, error="manager down", lane=MEMORY_MANAGER_LANE)
    fake_openai.reply(text="Hello!")
    fake_openai.reply(text="- Hello.\nTopics: greetings")

    output = _agent(make_model).run("I'm Sarah", user_id="sarah", session_id="t")

    assert output.status == "completed" and output.content == "Hello!"
    assert Run.objects.get().status == "completed"
    assert "Automatic memory update failed" in RunEvent.objects.get(kind="error").payload["message"]
    assert not Memory.objects.exists()
    assert SessionSummary.objects.get().text == "- Hello."


def test_a_failed_reply_writes_no_memories_and_leaves_no_thread(make_model, fake_openai):
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "User is called Sarah"})], lane=MEMORY_MANAGER_LANE
    )
    fake_openai.reply(status=500, error="model down")

    output = _agent(make_model).run("I'm Sarah", user_id="sarah", session_id="t")

    assert output.status == "error"
    assert not Memory.objects.exists() and not MemoryChange.objects.exists()
    assert not RunEvent.objects.filter(name="memory_manager").exists()
    assert len(fake_openai.requests) == 2  # the manager's request was asked, its answer dropped
    assert not [t for t in threading.enumerate() if t.name == THREAD_NAME]


def test_no_thread_is_left_after_runs(make_model, fake_openai):
    fake_openai.responder = Script("memory first")
    agent = _agent(make_model)

    for _ in range(3):
        agent.run("I'm Sarah", user_id="sarah", session_id="t")

    assert not [t for t in threading.enumerate() if t.name == THREAD_NAME]


def test_no_overlap_where_the_reply_may_write_memories_or_the_jobs_go_elsewhere(make_model, fake_openai):
    fake_openai.reply(text="Hi.")
    fake_openai.reply(text="No changes.", lane=MEMORY_MANAGER_LANE)
    agent = Agent(
        model=make_model("chat"), db=DjangoDb(), update_memory_on_run=True, enable_agentic_memory=True
    )

    agent.run("I'm Sarah", user_id="sarah", session_id="t")

    # Asked one after another: the reply's request (with the memory tools) first.
    assert [request_lane(r.body) for r in fake_openai.requests] == [None, MEMORY_MANAGER_LANE]


def test_a_stream_closed_early_writes_no_memories_and_leaves_no_thread(make_model, fake_openai):
    fake_openai.responder = Script("memory first")

    events = _agent(make_model).run("I'm Sarah", user_id="sarah", session_id="t", stream=True)
    next(events)  # the first words
    events.close()

    assert Run.objects.get().status == "cancelled"
    assert not Memory.objects.exists() and not SessionSummary.objects.exists()
    assert not [t for t in threading.enumerate() if t.name == THREAD_NAME]
