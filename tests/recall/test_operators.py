"""Operators see which embedder recall uses, and a wrong AGENT_EMBEDDER is one clear line."""

from __future__ import annotations

import pytest

from agentapp import app_agent, checks
from agentapp.llm import onnx_minilm

pytestmark = pytest.mark.django_db


def test_staff_see_the_embedder_in_use_and_people_do_not(client, alice, staff, fake_embedder):
    client.force_login(staff)
    assert (
        'id="recall-in-use">Recall: <code>openai:fake-embed</code>'
        in client.get("/memories/").content.decode()
    )

    client.force_login(alice)
    assert "recall-in-use" not in client.get("/memories/").content.decode()


def test_without_an_embedder_staff_are_told_recall_is_by_words(client, staff, settings):
    settings.AGENT_EMBEDDER = "none"
    app_agent.configured_embedder.cache_clear()
    client.force_login(staff)

    assert "Recall: <code>words and recency (no embedder)</code>" in client.get("/memories/").content.decode()


def test_an_unknown_embedder_is_an_error_naming_the_choices(settings):
    settings.AGENT_EMBEDDER = "word2vec"
    app_agent.configured_embedder.cache_clear()
    try:
        [error] = checks.embedder_configured()
    finally:
        settings.AGENT_EMBEDDER = "none"
        app_agent.configured_embedder.cache_clear()

    assert error.id == "agentapp.E002" and "'local', 'openai:<model>' or 'none'" in error.msg


def test_the_local_embedder_without_its_extra_says_what_to_install(settings, monkeypatch):
    settings.AGENT_EMBEDDER = "local"
    app_agent.configured_embedder.cache_clear()
    monkeypatch.setattr(app_agent, "local_embeddings_installed", lambda: False)

    [error] = checks.embedder_configured()

    assert error.id == "agentapp.E003" and "pip install torch==2.13.0 -e '.[local-embeddings]'" in error.msg
    app_agent.configured_embedder.cache_clear()


def test_check_deploy_warns_when_recall_has_no_embedder_by_default(settings, monkeypatch):
    settings.AGENT_EMBEDDER = ""
    settings.OPENAI_API_KEY = ""
    monkeypatch.setattr(app_agent, "local_embeddings_installed", lambda: False)
    monkeypatch.setattr(onnx_minilm, "installed", lambda: False)  # a partial install: no default model
    app_agent.configured_embedder.cache_clear()

    found = {message.id for message in checks.production_parts()}

    assert "agentapp.W006" in found
    settings.AGENT_EMBEDDER = "none"  # chosen: no warning
    app_agent.configured_embedder.cache_clear()
    assert "agentapp.W006" not in {message.id for message in checks.production_parts()}
