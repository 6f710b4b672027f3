"""What the Chat Completions and Responses adapter tests share: an adapter pointed at the fake
server, the messages and the tool they send, and ways to read a stream (sync and async)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from agentapp.llm import Message, ModelResponse, TextDelta, ToolSpec
from tests.fake_openai import FakeOpenAI

A = TypeVar("A")

MEMORY_TOOL = ToolSpec(
    name="add_memory",
    description="Store a fact about the user.",
    parameters={"type": "object", "properties": {"memory": {"type": "string"}}, "required": ["memory"]},
)


def adapter_factory(adapter: Callable[..., A], model_id: str, *, api_key: str) -> Callable[..., A]:
    """`make(server, **options)`: the adapter for `model_id` on the fake server, without retries."""

    def make(server: FakeOpenAI, **kwargs: Any) -> A:
        options = {"api_key": api_key, "base_url": server.base_url, "max_retries": 0, "timeout": 10}
        return adapter(model_id, **{**options, **kwargs})

    return make


def hello() -> list[Message]:
    return [Message(role="system", content="Be brief."), Message(role="user", content="Hi")]


def collect(model: Any, messages: list[Message], tools: tuple[ToolSpec, ...] = ()) -> tuple:
    items = list(model.stream(messages, tools))
    deltas = [item.text for item in items if isinstance(item, TextDelta)]
    assert isinstance(items[-1], ModelResponse)
    assert all(isinstance(item, TextDelta) for item in items[:-1])
    return deltas, items[-1]


def arun(model: Any, work: Callable[[], Awaitable[Any]]) -> Any:
    """asyncio.run() the work, then release the model's async connections inside the same loop."""

    async def main() -> Any:
        try:
            return await work()
        finally:
            await model.aclose()

    return asyncio.run(main())


async def drain(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
