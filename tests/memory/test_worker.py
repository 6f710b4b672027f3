"""Automatic memory through a real Celery worker on Redis, as in production."""

from __future__ import annotations

import pytest

from memory_app.models import Memory, MemoryExtraction
from memory_app.tasks import memory_update_for_run
from sessions_app.models import Run
from tests.redis_support import redis_worker, wait_for

OWN_REDIS = "redis://127.0.0.1:6379/11"


@pytest.fixture
def redis_celery():
    with redis_worker("agentapp-memory-test", OWN_REDIS) as app:
        yield app


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_the_automatic_memory_update_once(
    redis_celery, make_agent, fake_openai, task_model, settings
):
    settings.AGENT_BACKGROUND_TASKS = "celery"
    fake_openai.reply(text="Nice to meet you.")
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "User is called Sarah", "topics": ["name"]})])
    fake_openai.reply(text="Done.")

    output = make_agent("chat", update_memory_on_run=True).run("I'm Sarah", user_id="sarah", session_id="t")

    assert output.content == "Nice to meet you."
    wait_for(lambda: MemoryExtraction.objects.filter(state="done").exists())
    memory = Memory.objects.get()
    assert memory.text == "User is called Sarah"
    assert memory.changes.get().run == Run.objects.get(run_id=output.run_id)

    # The same task delivered again (a redelivery, a double enqueue) changes nothing.
    again = memory_update_for_run.apply_async(args=[output.run_id], ignore_result=False)
    assert again.get(timeout=20) == "skipped"
    assert Memory.objects.count() == 1 and len(fake_openai.requests) == 3
