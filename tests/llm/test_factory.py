"""model_from_spec: a short text spec to a configured Model."""

from __future__ import annotations

import pytest

from agentapp.llm import DemoModel, Message, Model, OpenAIChat, OpenAIResponses, model_from_spec


def test_demo_gives_the_offline_demo_model() -> None:
    model = model_from_spec("demo")
    assert isinstance(model, DemoModel)
    assert model.is_offline_demo


def test_a_chat_prefix_gives_the_chat_completions_adapter() -> None:
    model = model_from_spec(
        "chat:llama3.1:8b", api_key="sk-x", base_url="http://localhost:11434/v1", timeout=5
    )
    assert isinstance(model, OpenAIChat)
    assert model.id == "llama3.1:8b"
    assert model.base_url == "http://localhost:11434/v1"
    assert model.timeout == 5


@pytest.mark.parametrize(
    ("spec", "model_id"), [("responses:gpt-4.1", "gpt-4.1"), ("gpt-4.1-mini", "gpt-4.1-mini")]
)
def test_a_responses_prefix_or_a_bare_id_gives_the_responses_adapter(spec: str, model_id: str) -> None:
    model = model_from_spec(spec, api_key="sk-x")
    assert isinstance(model, OpenAIResponses)
    assert model.id == model_id
    assert model.provider == "openai-responses"


def test_an_id_with_colons_of_its_own_is_kept_whole() -> None:
    model = model_from_spec("ft:gpt-4o-mini:acme::abc123")
    assert isinstance(model, OpenAIResponses)
    assert model.id == "ft:gpt-4o-mini:acme::abc123"


@pytest.mark.parametrize("spec", ["", "  ", "chat:", "responses: "])
def test_an_empty_model_id_is_rejected(spec: str) -> None:
    with pytest.raises(ValueError):
        model_from_spec(spec)


def test_every_model_satisfies_the_protocol() -> None:
    for spec in ("demo", "chat:x", "responses:x", "x"):
        assert isinstance(model_from_spec(spec), Model)


def test_a_base_url_without_a_key_reaches_a_local_server(monkeypatch) -> None:
    from tests.fake_openai import FakeOpenAI

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        server.reply(text="local hello")
        model = model_from_spec("chat:llama3.2")
        assert model.request([Message(role="user", content="hi")]).text == "local hello"
        assert server.requests[0].headers["authorization"] == "Bearer no-key-needed"
