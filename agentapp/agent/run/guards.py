"""What a run checks around the model, as Agno does: the pre-hooks before it is asked, and after its
reply the output schema (the reply read as the schema's value) and the post-hooks.

A refusal ends the run as an error: a pre-hook's `InputCheckError` is raised to the run's driver (the
turn's `crash` tells it apart), a reply that does not match the schema or a post-hook's
`OutputCheckError` is returned by `refusal` as the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async

from ..events import RunOutput
from ..hooks import Lazy, RunInput, arun_hooks, check_message, hooks_of, is_check_error, run_hooks
from ..records import RunHandle
from ..run_context import RunContext
from ..settings import AgentSettings
from ..storage import AgentDb
from ..structured import OutputSchema, ReplyNotStructured, parse_reply
from ..timeline import Timeline

logger = logging.getLogger(__name__)


class Guards:
    def __init__(
        self,
        settings: AgentSettings,
        run: RunHandle,
        run_context: RunContext,
        db: AgentDb,
        timeline: Timeline,
        agent: object = None,
        output_schema: OutputSchema | None = None,
    ) -> None:
        self.settings = settings
        self.run = run
        self.run_context = run_context
        self.db = db
        self.timeline = timeline
        self.agent = agent  # what hooks are given as `agent`
        self.output_schema = output_schema
        self.is_async = False  # an arun's: its hooks may be `async def`
        self.run_input = RunInput(run.input)  # what the model is sent (a pre-hook may change it)
        self.structured: Any = None  # the reply as the output schema's value, once it parsed

    def before(self) -> None:
        if self.settings.pre_hooks:
            run_hooks(hooks_of(self.settings.pre_hooks), self._arguments(run_input=self.run_input))
            self._keep_changed_input()

    async def abefore(self) -> None:
        self.is_async = True
        if self.settings.pre_hooks:
            hooks = hooks_of(self.settings.pre_hooks, async_mode=True)
            await arun_hooks(hooks, self._arguments(run_input=self.run_input))
            await sync_to_async(self._keep_changed_input)()

    def _keep_changed_input(self) -> None:
        """A pre-hook changed the message (masked it, say): stored as changed, as Agno stores it."""
        changed = self.run_input.input_content
        if not isinstance(changed, str):
            raise TypeError("a pre-hook set run_input.input_content to something other than text")
        if changed != self.run.input:
            self.db.run_input_set(run=self.run, input=changed)

    def refusal(self, content: str, preview: Callable[[], RunOutput]) -> str | None:
        """Why the reply `content` may not stand, if it may not. The post-hooks see the reply as it
        would be returned (`preview`)."""
        if self.output_schema is not None:
            try:
                self.structured = parse_reply(self.output_schema, content)
            except ReplyNotStructured as error:
                self.timeline.error(str(error), {"kind": "output_schema"})
                return str(error)
        if not self.settings.post_hooks:
            return None
        hooks = hooks_of(self.settings.post_hooks, async_mode=self.is_async)
        try:
            run_hooks(hooks, self._arguments(run_output=preview()), awaitable=self.is_async)
        except Exception as exc:
            if not is_check_error(exc):
                raise
            message = check_message(exc)
            self.timeline.error(message, {"kind": "output_check"})
            logger.warning("run %s: a post-hook refused the reply: %s", self.run.run_id, message)
            return message
        return None

    def content(self, status: str, text: str) -> dict[str, Any]:
        """The RunOutput's `content` and `content_type`: a completed run's schema value, else the text."""
        if status != "completed" or self.structured is None:
            return {"content": text, "content_type": "str"}
        return {"content": self.structured, "content_type": type(self.structured).__name__}

    def _arguments(self, **given: Any) -> dict[str, Any]:
        """What a hook may ask for by name, as Agno offers it (the session read only when asked)."""
        run = self.run
        return {
            **given,
            "agent": self.agent,
            "session": Lazy(lambda: self.db.get_session(run.session_id, run.user_id)),
            "run_context": self.run_context,
            "user_id": run.user_id,
            "metadata": self.run_context.metadata,
            "debug_mode": self.settings.debug_mode,
        }
