from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_openai import FakeOpenAI


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    """The loopback fake provider the adapter tests talk to, through the real openai SDK."""
    with FakeOpenAI() as fake:
        yield fake
