"""Build a `Model` from a short text spec such as "demo", "chat:llama3" or "gpt-4.1-mini"."""

from __future__ import annotations

from .demo import DemoModel
from .openai_chat import OpenAIChat
from .openai_responses import OpenAIResponses
from .types import Model

_PREFIXES = {"chat": OpenAIChat, "responses": OpenAIResponses}


def model_from_spec(
    spec: str, *, api_key: str | None = None, base_url: str | None = None, timeout: float = 60.0
) -> Model:
    """ "demo" -> DemoModel; "chat:<id>" -> OpenAIChat; "responses:<id>" or a bare "<id>" -> OpenAIResponses.

    Only the two known prefixes are split off, so ids that contain colons themselves
    (fine-tuned models such as "ft:gpt-4o-mini:org::abc") are taken whole.
    """
    spec = (spec or "").strip()
    if spec.lower() == "demo":
        return DemoModel()
    prefix, sep, rest = spec.partition(":")
    cls = _PREFIXES.get(prefix.strip().lower()) if sep else None
    model_id = rest.strip() if cls is not None else spec
    if not model_id:
        raise ValueError(f"model spec {spec!r} has no model id")
    return (cls or OpenAIResponses)(model_id, api_key=api_key, base_url=base_url, timeout=timeout)
