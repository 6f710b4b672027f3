"""`Agent.continue_run` / `acontinue_run` (Agno's human in the loop): a paused run goes on, its
calls answered by its caller, from the RunOutput it returned or from its stored run."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async

from ..events import RunOutput, RunOutputEvent
from ..records import RunHandle
from ..requirements import RunRequirement, ToolExecution
from ..run_context import RunAsked
from ..settings import AgentSettings
from ..storage import AgentDb
from .driver import INLINE, THREADED, Way, iterate, result
from .output import AsyncRunStream, final_output, shown
from .resume import Resumed, unanswered_external


class ContinueRun:
    """A part of `Agent`: a paused run goes on."""

    db: AgentDb
    settings: AgentSettings
    user_id: str | None
    session_id: str | None
    _run_asks: dict[str, RunAsked]

    def _drive(
        self, run: RunHandle, way: Way, *, stream: bool, resumed: Resumed | None = None
    ) -> AsyncGenerator[RunOutputEvent, None]:
        raise NotImplementedError  # the Agent's

    def continue_run(
        self,
        run_response: RunOutput | None = None,
        *,
        run_id: str | None = None,
        requirements: Sequence[RunRequirement] | None = None,
        stream: bool = False,
        stream_events: bool = False,
        user_id: str | None = None,
        session_id: str | None = None,
        yield_run_output: bool = False,
        debug_mode: bool | None = None,
    ) -> RunOutput | Iterator[RunOutputEvent | RunOutput]:
        """Go on with a paused run (Agno's `continue_run`): `run_response` as the run returned it, its
        `tools` answered (`tool.confirmed`, the fields of `tool.user_input_schema`, `tool.result`; or
        `requirement.confirm()` / `.reject(note)`, `.provide_user_input({...})`,
        `.set_external_execution_result(...)`); or its `run_id` (with `session_id`, as Agno asks) and
        the answered `requirements`, from any Agent on the same storage. Confirmed or filled in, the
        tool runs (with the caller's values) and the model goes on; run by the caller, the model is
        told its result; rejected (or left unanswered), the model is told it was not. A run is
        continued once, by the person it is for (another's is not found: RunNotFound); one that is not
        paused, or whose call to run elsewhere has no result, is refused (ValueError)."""
        asked = RunAsked.of(None, debug_mode=debug_mode)
        run, resumed = self._resume(run_response, run_id, requirements, user_id, session_id, asked)
        events = self._drive(run, INLINE, stream=stream, resumed=resumed)
        if not stream:
            return result(final_output(events))
        return iterate(shown(events, stream_events=stream_events, yield_run_output=yield_run_output))

    @markcoroutinefunction
    def acontinue_run(
        self,
        run_response: RunOutput | None = None,
        *,
        run_id: str | None = None,
        requirements: Sequence[RunRequirement] | None = None,
        stream: bool = False,
        stream_events: bool = False,
        user_id: str | None = None,
        session_id: str | None = None,
        yield_run_output: bool = False,
        debug_mode: bool | None = None,
    ) -> Any:
        """`continue_run` for async callers: awaited, the RunOutput; with stream=True, an async
        iterator of its events (as `arun`)."""
        asked = RunAsked.of(None, debug_mode=debug_mode)

        async def begun() -> AsyncGenerator[RunOutputEvent, None]:
            resume = sync_to_async(self._resume)
            run, resumed = await resume(run_response, run_id, requirements, user_id, session_id, asked)
            return self._drive(run, THREADED, stream=stream, resumed=resumed)

        async def output() -> RunOutput:
            return await final_output(await begun())

        async def streamed() -> AsyncIterator[RunOutputEvent | RunOutput]:
            return shown(await begun(), stream_events=stream_events, yield_run_output=yield_run_output)

        return AsyncRunStream(streamed) if stream else output()

    def _resume(
        self,
        run_response: RunOutput | None,
        run_id: str | None,
        requirements: Sequence[RunRequirement] | None,
        user_id: str | None,
        session_id: str | None,
        asked: RunAsked,
    ) -> tuple[RunHandle, Resumed]:
        if run_response is None and run_id is None:
            raise ValueError("Either run_response or run_id must be provided.")
        answers: list[ToolExecution] = []
        before: list[RunRequirement] = []
        if run_response is not None:
            if not run_response.is_paused:
                raise ValueError(f"Cannot continue run {run_response.run_id}: it is not paused")
            run_id, session_id = run_response.run_id, session_id or run_response.session_id
            answers, before = list(run_response.tools), list(run_response.requirements or ())
        else:
            session_id = session_id or self.session_id
            if session_id is None:
                raise ValueError("Session ID is required to continue a run from a run_id.")
            if requirements is None:
                raise ValueError(
                    "Run has unresolved HITL requirements. Provide the `requirements` parameter."
                )
            answers, before = [r.tool_execution for r in requirements], list(requirements)
        if (waiting := unanswered_external(answers)) is not None:  # checked before the run is taken up
            raise ValueError(f"Tool {waiting} requires external execution, cannot continue run")
        # Whose run it is: the one named, else the Agent's person, else (as Agno) the run's own.
        owner = user_id or self.user_id or (run_response.user_id if run_response is not None else None)
        paused = self.db.run_resume(run_id=run_id or "", user_id=owner, session_id=session_id)
        resumed = Resumed(
            messages=tuple(paused.messages),
            answers={t.tool_call_id: t for t in answers},
            usage=paused.usage,
            earlier=answers,
            requirements=before,
            tools=self.settings.tools,
        )
        if asked != RunAsked():
            self._run_asks[paused.run.run_id] = asked
        return paused.run, resumed
