"""Text as PostgreSQL can store it: a model may send what it cannot (U+0000, a lone surrogate).

Neither can be written to a text column or into jsonb, and either, refused, used to lose the whole
reply. Each becomes U+FFFD, the replacement character, so the rest is kept as it was sent.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    return _UNSTORABLE.sub(REPLACEMENT, text) if _UNSTORABLE.search(text) else text


def storable_json(value: Any) -> Any:
    """The same for every string in a JSON value (keys included)."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_json(key): storable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    return value


def unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None
