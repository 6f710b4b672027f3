"""A model request asked ahead of the loop that needs it: the automatic memory update's first request,
sent when a script's run starts, so that it runs alongside the reply (as Agno's does).

Only the request is made ahead, on a thread of its own (a sync run) or a task (an async one); what
the answer leads to (the memory writes, the timeline) is done later, in the run's own thread, once the
reply is stored, as before. So a run whose reply fails writes nothing more than it did. That rest is
done while the summary's request is out (`Meanwhile`): the storage stays in the run's thread, the
waiting overlaps.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass

from agentapp.llm.types import Message, Model, ModelResponse, StreamItem, ToolSpec

from ..memory.manager_pass import MemoryPass, MemoryUpdate

THREAD_NAME = "agent-memory-alongside"


class AskedAhead:
    """`model.request(messages, tools)`, started at once by `start_thread` or `start_task`; `settle`
    waits for its answer, `abandon` for its end (cancelled when it can be)."""

    def __init__(self, model: Model, messages: tuple[Message, ...], tools: tuple[ToolSpec, ...]) -> None:
        self.model = model
        self.messages = messages
        self.tools = tools
        self._response: ModelResponse | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self._ask, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def start_task(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._aask(), name=THREAD_NAME)

    def _ask(self) -> None:
        try:
            self._response = self.model.request(self.messages, self.tools)
        except BaseException as exc:  # handed to whoever asks for the answer, as a direct call would
            self._error = exc

    async def _aask(self) -> None:
        try:
            self._response = await self.model.arequest(self.messages, self.tools)
        except Exception as exc:
            self._error = exc

    async def settle(self) -> None:
        """Wait for the answer (a sync run's join never yields to an event loop: it has none)."""
        if self._thread is not None:
            self._thread.join()
        if self._task is not None:
            await self._task

    async def abandon(self) -> None:
        """The answer is not wanted (the reply did not complete): end the request, leave no thread."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._thread is not None:
            self._thread.join()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def answer(self) -> ModelResponse:
        if self._error is not None:
            raise self._error
        if self._response is None:
            raise RuntimeError("the request asked ahead has not been answered yet")
        return self._response

    def answering(self) -> Model:
        """`model`, whose first request, when it is this one, gets this answer."""
        return _AnsweredFirst(self)


class Meanwhile:
    """`work`, done (once) in the caller's thread while the first request of a model made through this
    (`meanwhile(model)`) is out on a thread of its own; `done` does it if no request came."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._work: Callable[[], None] | None = work

    def __call__(self, model: Model) -> Model:
        return _WhileAsking(model, self)

    def take(self) -> Callable[[], None] | None:
        work, self._work = self._work, None
        return work

    def done(self) -> None:
        work = self.take()
        if work is not None:
            work()


class _WhileAsking:
    def __init__(self, model: Model, meanwhile: Meanwhile) -> None:
        self.model, self.meanwhile = model, meanwhile
        self.id, self.provider = model.id, model.provider

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        work = self.meanwhile.take()
        if work is None:
            return self.model.request(messages, tools)
        asked = AskedAhead(self.model, tuple(messages), tuple(tools))
        asked.start_thread()
        try:
            work()
        finally:
            asked.join()
        return asked.answer()

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamItem | ModelResponse]:
        return self.model.stream(messages, tools)

    async def arequest(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        return await self.model.arequest(messages, tools)

    def astream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[StreamItem | ModelResponse]:
        return self.model.astream(messages, tools)


class _AnsweredFirst:
    def __init__(self, ahead: AskedAhead) -> None:
        self._ahead: AskedAhead | None = ahead
        self.model = ahead.model
        self.id = ahead.model.id
        self.provider = ahead.model.provider

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and tuple(messages) == ahead.messages and tuple(tools) == ahead.tools:
            return ahead.answer()
        return self.model.request(messages, tools)

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamItem | ModelResponse]:
        return self.model.stream(messages, tools)

    async def arequest(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        return await self.model.arequest(messages, tools)

    def astream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[StreamItem | ModelResponse]:
        return self.model.astream(messages, tools)


@dataclass
class MemoryAlongside:
    """A run's automatic memory update, made ready when the run starts, its first request asked ahead."""

    memory: MemoryPass
    asked: AskedAhead

    @classmethod
    def of(cls, memory: MemoryPass) -> MemoryAlongside:
        return cls(memory, AskedAhead(memory.model, *memory.first_request()))

    def finish(self) -> MemoryUpdate:
        """The update, once `asked` is settled: its answer taken, the rest asked and written here."""
        return self.memory.finish(self.asked.answering())
