"""What Agno's storages and other providers' models become in bench/agno_material.py's rewrite.

Agno's `SqliteDb(db_file=...)` or `PostgresDb(db_url=...)` take settings ours has no use for, so the
rewritten import gives these instead: the same names, each one of our storages (`DjangoDb` on the
runner's scratch database, or `InMemoryDb` with `AGNO_MATERIAL_DB=memory`), Agno's arguments
dropped. A model of another provider (`Claude`, `Gemini`, ...) is our `OpenAIChat` on the loopback
server, as the OpenAI ones are: the material is about sessions and memory, not providers.
"""

from __future__ import annotations

import os
from typing import Any

from agentapp.agent import InMemoryDb
from agentapp.llm import OpenAIChat

if os.environ.get("AGNO_MATERIAL_DB", "django") == "memory":
    _Storage: type = InMemoryDb
else:
    from agentapp.db import DjangoDb

    _Storage = DjangoDb


class _OurStorage(_Storage):  # type: ignore[misc, valid-type]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()


class SqliteDb(_OurStorage):
    pass


class AsyncSqliteDb(_OurStorage):
    pass


class PostgresDb(_OurStorage):
    pass


class AsyncPostgresDb(_OurStorage):
    pass


class _OtherProvider(OpenAIChat):
    def __init__(self, id: str = "loopback", **kwargs: Any) -> None:
        super().__init__(id=id)


class Claude(_OtherProvider):
    pass


class Gemini(_OtherProvider):
    pass


def unserved(what: str) -> type:
    """A stand-in for a name of Agno's we do not serve (`--stub-unserved`): importing it works,
    making one fails, naming it; nothing is an instance of it."""

    def refuse(self: object, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"not served here: {what}")

    return type(what.rsplit(".", 1)[-1], (), {"__init__": refuse})
