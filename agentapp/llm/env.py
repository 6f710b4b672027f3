"""Which model to use, from the environment, as the openai SDK reads it."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .factory import model_from_spec
from .types import Model

DEFAULT_MODEL_ID = "gpt-5.5"


def model_spec(spec: str | None, *, api_key: str | None, base_url: str | None) -> str:
    """`spec` when given; otherwise a real model when a key or base URL is configured, else the demo."""
    spec = (spec or "").strip()
    if spec:
        return spec
    return DEFAULT_MODEL_ID if api_key or base_url else "demo"


def model_spec_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """AGENT_MODEL when set; otherwise a real model when a key or base URL is configured, else the demo."""
    return model_spec(
        environ.get("AGENT_MODEL"),
        api_key=environ.get("OPENAI_API_KEY") or None,
        base_url=environ.get("OPENAI_BASE_URL") or None,
    )


def model_from_env(environ: Mapping[str, str] = os.environ, *, timeout: float = 60.0) -> Model:
    return model_from_spec(
        model_spec_from_env(environ),
        api_key=environ.get("OPENAI_API_KEY") or None,
        base_url=environ.get("OPENAI_BASE_URL") or None,
        timeout=timeout,
    )
