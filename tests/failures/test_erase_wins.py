"""Erasing a person wins every race: whatever a real worker was doing for them when the erase answered
(a slow model in the middle of their automatic memory update or their summary), nothing of theirs
appears afterwards."""

from __future__ import annotations

import time

import pytest

from agentapp.accounts.services import user_data_erase
from memory_app.models import Memory, MemoryChange
from sessions_app.models import AgentSession, Run, SessionSummary
from tests.redis_support import redis_worker, wait_for

pytest_plugins = ["tests.fake_openai"]
pytestmark = pytest.mark.django_db(transaction=True)

OWN_REDIS = "redis://127.0.0.1:6379/12"
SLOW = 1.5  # seconds the model takes over the follow-up's request: the erase lands meanwhile


@pytest.fixture
def redis_celery():
    with redis_worker("agentapp-erase-test", OWN_REDIS) as app:
        yield app


def _nothing_left(user) -> bool:
    return not (
        Memory.objects.filter(user=user).exists()
        or MemoryChange.objects.filter(user=user).exists()
        or AgentSession.objects.filter(user=user).exists()
        or Run.objects.filter(user=user).exists()
        or SessionSummary.objects.filter(session__user=user).exists()
    )


@pytest.mark.parametrize("follow_up", ["memory", "summary"])
def test_nothing_comes_back_after_the_erase_answered(
    redis_celery, worker_model, make_agent, fake_openai, settings, django_user_model, follow_up
):
    """Was: the memory update's write, refused for its vanished run, was kept as the person's own."""
    settings.AGENT_BACKGROUND_TASKS = "celery"
    fake_openai.reply(text="Nice to meet you, Sarah.")
    if follow_up == "memory":
        fake_openai.reply(tool_calls=[("add_memory", {"memory": "User is called Sarah"})], delay=SLOW)
        fake_openai.reply(text="Done.")
        agent = make_agent("chat", update_memory_on_run=True)
    else:
        fake_openai.reply(text="Sarah introduced herself.", delay=SLOW)
        agent = make_agent("chat", enable_session_summaries=True)

    agent.run("I'm Sarah and I live in Porto", user_id="sarah", session_id="t")
    wait_for(lambda: len(fake_openai.requests) >= 2)  # the follow-up's request is with the model
    sarah = django_user_model.objects.get(username="sarah")
    erased = user_data_erase(user=sarah)

    assert erased["sessions"] == 1 and _nothing_left(sarah)
    time.sleep(SLOW + 1.5)  # the model answers; the worker writes (or tries to)
    assert _nothing_left(sarah)
    assert len(fake_openai.requests) >= 2
