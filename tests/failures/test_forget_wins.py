""" "Forget what was learned from this" wins the race with the run's automatic memory update: a real
worker with a slow model is in the middle of it when the person asks to forget the run; once the
forget has answered, no memory from that run appears, whether the update stored its memory before
the forget (which undoes it) or tries after (which is refused)."""

from __future__ import annotations

import time

import pytest

from memory_app.models import Memory, MemoryExtraction
from memory_app.services import run_forget
from sessions_app.models import Run
from tests.redis_support import redis_worker, wait_for

pytest_plugins = ["tests.fake_openai"]
pytestmark = pytest.mark.django_db(transaction=True)

OWN_REDIS = "redis://127.0.0.1:6379/14"
SLOW = 1.5  # seconds the model takes over the update's request: the forget lands meanwhile


@pytest.fixture
def redis_celery():
    with redis_worker("agentapp-forget-test", OWN_REDIS) as app:
        yield app


def _learned(run: Run) -> list[str]:
    return list(Memory.objects.live().filter(source_run=run).values_list("text", flat=True))


def _update_finished(run: Run) -> bool:
    finished = (MemoryExtraction.State.DONE, MemoryExtraction.State.FAILED)
    return MemoryExtraction.objects.filter(run=run, state__in=finished).exists()


@pytest.mark.parametrize("update", ["stores after the forget", "stored before the forget"])
def test_no_memory_from_a_forgotten_run_appears_after_the_forget_answered(
    redis_celery, worker_model, make_agent, fake_openai, settings, django_user_model, update
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    fake_openai.reply(text="Nice to meet you, Sarah.")
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User is called Sarah"})], delay=SLOW)
    fake_openai.reply(text="Done.")
    agent = make_agent("chat", update_memory_on_run=True)
    output = agent.run("I'm Sarah and I live in Porto", user_id="sarah", session_id="t")
    run = Run.objects.get(run_id=output.run_id)
    sarah = django_user_model.objects.get(username="sarah")
    if update == "stores after the forget":
        wait_for(lambda: len(fake_openai.requests) >= 2)  # the update's request is with the slow model
    else:
        wait_for(lambda: bool(_learned(run)))  # the update's memory is stored (committed)

    done = run_forget(run=run, actor="person", actor_user=sarah)

    assert _learned(run) == []
    assert done.memories == (1 if update == "stored before the forget" else 0)
    wait_for(lambda: _update_finished(run), timeout=SLOW + 15)  # the worker wrote (or tried to)
    time.sleep(0.3)
    assert _learned(run) == []
    assert not Memory.objects.current().filter(user=sarah).exists()
    assert len(fake_openai.requests) >= 2  # the update really was in flight
