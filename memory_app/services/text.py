"""A memory's text and topics as stored: cleaned, bounded, and normalised for finding duplicates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agentapp.errors import InvalidInput
from agentapp.platform.storable import storable

MAX_MEMORY_CHARS = 2_000
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 50


def normalize_text(text: str) -> str:
    return " ".join(text.lower().split())


def clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("memory text must not be empty")
    text = storable(" ".join(text.split()))
    if len(text) > MAX_MEMORY_CHARS:
        raise InvalidInput(f"memory text is longer than {MAX_MEMORY_CHARS} characters")
    return text


def clean_topics(topics: Iterable[Any] | None) -> list[str]:
    if topics is None:
        return []
    if isinstance(topics, str):
        topics = topics.split(",")
    if not isinstance(topics, list | tuple):
        raise InvalidInput("topics must be a list of strings")
    cleaned: list[str] = []
    for topic in topics:
        if not isinstance(topic, str):
            raise InvalidInput("topics must be strings")
        topic = storable(" ".join(topic.lower().split())[:MAX_TOPIC_CHARS])
        if topic and topic not in cleaned:
            cleaned.append(topic)
    return cleaned[:MAX_TOPICS]
