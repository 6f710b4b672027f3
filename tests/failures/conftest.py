from __future__ import annotations

import pytest

from .db_outage import outage  # noqa: F401 - the fixture, for the tests of this folder


@pytest.fixture
def worker_model(make_model, monkeypatch):
    """The app's agent, which a worker builds, on the loopback server."""
    model = make_model("chat")
    monkeypatch.setattr("agentapp.app_agent.configured_model", lambda: model)
    return model
