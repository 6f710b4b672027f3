from __future__ import annotations

import pytest

from agentapp.agent import Agent, InMemoryDb
from agentapp.db import DjangoDb


@pytest.fixture(params=[pytest.param("django", marks=pytest.mark.django_db), "in_memory"])
def storage(request):
    """Each test using it runs once per storage: DjangoDb (PostgreSQL) and InMemoryDb."""
    return DjangoDb() if request.param == "django" else InMemoryDb()


@pytest.fixture
def agent_on(storage, make_model):
    def make(**kwargs) -> Agent:
        return Agent(model=make_model("chat"), db=storage, **kwargs)

    return make
