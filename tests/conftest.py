from __future__ import annotations

import pytest

from agentapp.agent import Agent
from agentapp.db import DjangoDb
from agentapp.llm import OpenAIChat, OpenAIResponses

pytest_plugins = ["tests.fake_openai", "tests.live"]

ADAPTERS = {"responses": OpenAIResponses, "chat": OpenAIChat}


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> str:
    """Runs a test once against each OpenAI adapter."""
    return request.param


@pytest.fixture
def make_model(fake_openai):
    def make(kind: str = "chat", **kwargs):
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 5.0)
        return ADAPTERS[kind](
            id="gpt-test", base_url=fake_openai.base_url, api_key="sk-test-secret-123", **kwargs
        )

    return make


@pytest.fixture
def make_agent(make_model):
    """An Agent on DjangoDb and the loopback model; its follow-ups go where the app's would
    (AGENT_BACKGROUND_TASKS, read when it is made: "inline" in the test settings)."""

    def make(kind: str = "chat", *, model_kwargs: dict | None = None, **kwargs) -> Agent:
        from agentapp import app_agent

        kwargs.setdefault("followups", app_agent.followups())
        return Agent(model=make_model(kind, **(model_kwargs or {})), db=DjangoDb(), **kwargs)

    return make


PASSWORD = "pw-for-tests-123"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("ops", password=PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture
def no_summaries(settings):
    """Summaries are another part's follow-up (a model call of their own): keep a test's model
    requests to its own."""
    settings.AGENT_SESSION_SUMMARIES = False


@pytest.fixture
def demo_model(settings):
    """The app's agent on the offline demo model, as with no key configured."""
    from agentapp.app_agent import configured_model

    settings.AGENT_MODEL = "demo"
    configured_model.cache_clear()
    yield
    configured_model.cache_clear()


@pytest.fixture
def app_model(fake_openai, settings):
    """Points the app's own agent (chat, API, tasks: `agentapp.app_agent`) at the loopback server."""
    from agentapp.app_agent import configured_model

    settings.AGENT_MODEL = "chat:gpt-test"
    settings.OPENAI_BASE_URL = fake_openai.base_url
    settings.OPENAI_API_KEY = "sk-test-secret-123"
    configured_model.cache_clear()
    yield fake_openai
    configured_model.cache_clear()
