"""Model adapters: the `Model` protocol over the OpenAI Responses and Chat APIs, plus an offline demo."""

from __future__ import annotations

from .demo import DemoModel
from .embeddings import Embedder, EmbeddingError, LocalEmbedder, OnnxEmbedder, OpenAIEmbedder
from .factory import model_from_spec
from .openai_chat import OpenAIChat
from .openai_responses import OpenAIResponses
from .types import (
    ErrorKind,
    Message,
    Model,
    ModelError,
    ModelResponse,
    ModelRetrying,
    Role,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)

__all__ = [
    "DemoModel",
    "Embedder",
    "EmbeddingError",
    "ErrorKind",
    "LocalEmbedder",
    "Message",
    "Model",
    "ModelError",
    "ModelResponse",
    "ModelRetrying",
    "OnnxEmbedder",
    "OpenAIChat",
    "OpenAIEmbedder",
    "OpenAIResponses",
    "Role",
    "TextDelta",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "model_from_spec",
]
