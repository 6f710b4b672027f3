from __future__ import annotations

import pytest

from memory_app import services
from memory_app.models import MemoryChange


@pytest.fixture
def remember():
    """Store a memory for a user as that person would, through the service."""

    def remember(user, text: str, topics=None, actor: str = MemoryChange.Actor.PERSON):
        memory, created = services.memory_create(user_pk=user.pk, text=text, topics=topics, actor=actor)
        assert created
        return memory

    return remember


@pytest.fixture
def task_model(make_model, monkeypatch):
    """The app's agent (what the task builds) on the loopback server, with no SDK-level retries,
    so each task attempt is exactly one request per model round."""
    model = make_model("chat")
    monkeypatch.setattr("agentapp.app_agent.configured_model", lambda: model)
    return model
