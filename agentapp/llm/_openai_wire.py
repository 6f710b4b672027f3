"""Reading the JSON payloads of OpenAI-compatible servers.

Servers (especially "OpenAI-compatible" ones) may leave fields out, send null or the wrong type:
these read such a field as absent instead of failing.
"""

from __future__ import annotations

from typing import Any

from .types import Usage


def get(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int:
    return value if type(value) is int else 0


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_usage(usage: Any, input_key: str, output_key: str) -> Usage:
    input_tokens = as_int(get(usage, input_key))
    output_tokens = as_int(get(usage, output_key))
    return Usage(
        input_tokens, output_tokens, as_int(get(usage, "total_tokens")) or input_tokens + output_tokens
    )
