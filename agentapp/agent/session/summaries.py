"""Session summaries: fold the turns the summary does not cover yet into it, one bounded request at a time."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agentapp.llm.types import Message, Model, ModelError, ModelResponse

from ..prompt import SEPARATOR, Span
from ..records import EventRecord, RunHandle, SessionSummaryRecord, SummaryInputs, SummaryTurn
from ..storage import AgentDb
from ..telemetry import StepSpans
from ..timeline import to_datetime

logger = logging.getLogger(__name__)

# Bounds on one fold's input, so a summary request costs the same on turn 10 and turn 10,000.
MAX_RUNS_PER_FOLD = 20
MAX_TURN_CHARS = 2_000  # per user message and per reply
MAX_SUMMARY_CHARS = 4_000
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 40
MAX_BATCHES = 5  # folds per call; a longer backlog (a full recompute) is left `pending` for the next call

SUMMARY_INSTRUCTIONS = (
    "You maintain a running summary of a conversation between a user and an assistant. "
    "Below is the current summary (possibly empty); the user message holds the turns of the chat "
    "that came after it. Write the updated summary: fold the new turns into the current one, keep "
    "the facts, decisions, open questions and anything the user asked to be remembered, drop small "
    f"talk, and stay under {MAX_SUMMARY_CHARS // 5} words. Write plain prose, no preamble. "
    "End with one last line of the form 'Topics: topic one, topic two' listing up to "
    f"{MAX_TOPICS} short topics of the whole conversation."
)

_TOPICS_LINE = re.compile(r"^\s*\**\s*topics\s*\**\s*:\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class SummaryUpdate:
    """What `Agent.update_session_summary` did."""

    folded_runs: int = 0  # runs whose fold was saved
    requests: int = 0  # model requests made
    dropped: int = 0  # folds computed but not saved: another worker had moved the summary on
    pending: bool = False  # runs still wait (the batch cap was reached); enqueue again


def truncate(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_turns(turns: Sequence[SummaryTurn]) -> str:
    return "\n\n".join(
        f"user: {truncate(turn.input, MAX_TURN_CHARS)}\nassistant: {truncate(turn.content, MAX_TURN_CHARS)}"
        for turn in turns
    )


def build_summary_request(
    *,
    summary: SessionSummaryRecord | None,
    turns: Sequence[SummaryTurn],
    instructions: str = SUMMARY_INSTRUCTIONS,
    request_message: str = "",
) -> tuple[tuple[Message, ...], tuple[Span, ...]]:
    """The current summary goes with the instructions; the user message is only the new turns
    (after `request_message`, when a SessionSummaryManager gives one)."""
    current = truncate(summary.summary, MAX_SUMMARY_CHARS) if summary and summary.summary else "(none yet)"
    topics = ", ".join(summary.topics) if summary and summary.topics else "(none yet)"
    current_part = f"The current summary:\n<session_summary>\n{current}\nTopics: {topics}\n</session_summary>"
    system = f"{instructions}{SEPARATOR}{current_part}"
    split = len(instructions)
    layout = (
        Span("instructions", 0, 0, split),
        Span("summary", 0, split + len(SEPARATOR), len(system)),
        Span("history", 1),
    )
    user = render_turns(turns)
    if request_message:
        user = f"{request_message}{SEPARATOR}{user}"
    messages = (Message(role="system", content=system), Message(role="user", content=user))
    return messages, layout


@dataclass
class SessionSummaryResponse:
    """What a summary request answers, as Agno's `SessionSummaryResponse`: the text and its topics."""

    summary: str
    topics: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, **({"topics": list(self.topics)} if self.topics is not None else {})}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        return {
            "title": cls.__name__,
            "type": "object",
            "properties": {
                "summary": {"type": "string", "description": "Summary of the session."},
                "topics": {"type": "array", "items": {"type": "string"}, "description": "Topics discussed."},
            },
            "required": ["summary"],
        }


class SessionSummaryManager:
    """Agno's SessionSummaryManager: `model` (the Agent's when None), `session_summary_prompt`
    (replaces the instructions), `summary_request_message` (opens the request), `last_n_runs` and
    `conversation_limit` (what `create_session_summary` reads: the last runs, at most that many
    messages). Given to an Agent, its prompt and model make the incremental fold after each run;
    `create_session_summary` writes one afresh from the last runs. `id` (one of its own when not
    given) and `name` tell two managers apart, as Agno's."""

    def __init__(
        self,
        model: Model | None = None,
        session_summary_prompt: str | None = None,
        summary_request_message: str | None = None,
        last_n_runs: int | None = None,
        conversation_limit: int | None = None,
        id: str | None = None,
        name: str | None = None,
    ) -> None:
        for setting, value in (("last_n_runs", last_n_runs), ("conversation_limit", conversation_limit)):
            if value is not None and value < 1:
                raise ValueError(f"{setting} must be a positive integer, got {value}")
        # Agno's: an id of its own when none is given, so two managers of a kind stay apart.
        self.id: str = id or f"session_summary_manager_{uuid.uuid4().hex[:8]}"
        self.name = name
        self.model = model
        self.session_summary_prompt = session_summary_prompt
        self.summary_request_message = summary_request_message
        self.last_n_runs = last_n_runs
        self.conversation_limit = conversation_limit

    @property
    def instructions(self) -> str:
        return (self.session_summary_prompt or SUMMARY_INSTRUCTIONS).strip()

    def get_response_format(self, model: Any) -> dict[str, Any] | type[SessionSummaryResponse]:
        """The response format Agno would ask `model` for (the summary here is asked as prose with a
        closing topics line, which every model answers)."""
        if getattr(model, "supports_native_structured_outputs", False):
            return SessionSummaryResponse
        if getattr(model, "supports_json_schema_outputs", False):
            schema = SessionSummaryResponse.model_json_schema()
            return {
                "type": "json_schema",
                "json_schema": {"name": SessionSummaryResponse.__name__, "schema": schema},
            }
        return {"type": "json_object"}

    def create_session_summary(
        self, *, db: AgentDb, session_id: str, model: Model | None = None
    ) -> SessionSummaryRecord | None:
        """Summarise the session afresh from its last `last_n_runs` completed runs (at most
        `conversation_limit` messages) and store it; None for a session without any."""
        runs = [r for r in db.session_runs(session_id=session_id) if r.status == "completed"]
        if self.last_n_runs is not None:
            runs = runs[-self.last_n_runs :] if self.last_n_runs > 0 else []
        if self.conversation_limit is not None:
            runs = runs[-max(1, self.conversation_limit // 2) :] if self.conversation_limit > 0 else []
        if not runs:
            return None
        current = db.session_summary_get(session_id=session_id)
        turns = [
            SummaryTurn(
                run=RunHandle(run_id=r.run_id, session_id=session_id, user_id=r.user_id, input=r.input),
                input=r.input,
                content=r.content,
            )
            for r in runs
        ]
        # The request goes on the last run's timeline: that one needs the storage's own handle.
        last = turns[-1]
        turns[-1] = SummaryTurn(
            run=db.run_handle(run_id=last.run.run_id), input=last.input, content=last.content
        )
        inputs = SummaryInputs(summary=None, turns=turns, more=False)
        _fold(
            model or self._model(),
            db,
            session_id,
            inputs,
            manager=self,
            expected_last_run_id=current.last_run_id if current else None,
        )
        return db.session_summary_get(session_id=session_id)

    def _model(self) -> Model:
        if self.model is None:
            raise ValueError("this SessionSummaryManager has no model: give it one, or pass model=")
        return self.model


def parse_summary(text: str, *, previous_topics: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The summary text and its topics; the last 'Topics:' line is taken off the text."""
    lines = (text or "").strip().splitlines()
    topics: list[str] | None = None
    for index in range(len(lines) - 1, -1, -1):
        match = _TOPICS_LINE.match(lines[index])
        if match:
            topics = _topics(match.group(1))
            del lines[index]
            break
    summary = truncate("\n".join(lines), MAX_SUMMARY_CHARS)
    # A model that forgot the topics line should not wipe the topics it gave before.
    return summary, topics if topics is not None else list(previous_topics)[:MAX_TOPICS]


def _topics(text: str) -> list[str]:
    seen: list[str] = []
    for raw in re.split(r"[,;]", text):
        topic = raw.strip(" .*`'\"").lower()[:MAX_TOPIC_CHARS]
        if topic and topic not in ("(none yet)", "none") and topic not in seen:
            seen.append(topic)
    return seen[:MAX_TOPICS]


# --- the fold ------------------------------------------------------------------------
def update_summary(
    *,
    model: Model,
    db: AgentDb,
    session_id: str,
    max_runs: int = MAX_RUNS_PER_FOLD,
    max_batches: int = MAX_BATCHES,
    manager: SessionSummaryManager | None = None,
    through: Callable[[Model], Model] | None = None,
) -> SummaryUpdate:
    """Fold the completed runs the summary does not cover yet into it, `max_runs` per model request
    (to the model as `through` makes it, when given).

    Safe to run twice or concurrently: each save is conditional on the summary the fold started
    from, so a fold another worker already applied is dropped. A failed model request raises
    its `ModelError` (recorded first), so a worker can retry the transient ones.
    """
    folded = requests = dropped = 0
    more = False
    for _ in range(max(1, max_batches)):
        inputs = db.summary_inputs(session_id=session_id, max_runs=max(1, max_runs))
        if inputs is None or not inputs.turns:
            return SummaryUpdate(folded, requests, dropped, pending=False)
        requests += 1
        chosen = manager.model if manager and manager.model else model
        if _fold(
            through(chosen) if through is not None else chosen,
            db,
            session_id,
            inputs,
            manager=manager,
            expected_last_run_id=inputs.replaces,
        ):
            folded += len(inputs.turns)
            if not inputs.more:  # all it read is folded: a run ended since has its own update
                return SummaryUpdate(folded, requests, dropped, pending=False)
        else:
            dropped += 1
        more = inputs.more
    return SummaryUpdate(folded, requests, dropped, pending=more)


def _fold(
    model: Model,
    db: AgentDb,
    session_id: str,
    inputs: SummaryInputs,
    *,
    manager: SessionSummaryManager | None = None,
    expected_last_run_id: str | None = None,
) -> bool:
    """One request folding `inputs` into its summary (a fresh one when `inputs.summary` is None and
    `expected_last_run_id` names the stored one it replaces)."""
    previous = inputs.summary
    messages, layout = build_summary_request(
        summary=previous,
        turns=inputs.turns,
        instructions=manager.instructions if manager else SUMMARY_INSTRUCTIONS,
        request_message=(manager.summary_request_message or "") if manager else "",
    )
    last = inputs.turns[-1].run
    payload: dict[str, Any] = {
        "run_ids": [turn.run.run_id for turn in inputs.turns],
        "previous_last_run_id": previous.last_run_id if previous else None,
        "request": {"messages": [m.to_dict() for m in messages]},
        "layout": [span.to_dict() for span in layout],
    }
    started = time.time()
    try:
        response = StepSpans.under_current_span(model).request(messages)
        text, topics = parse_summary(response.text, previous_topics=previous.topics if previous else ())
        if not text:
            raise ModelError("The model returned an empty summary", kind="server")
    except ModelError as error:
        payload["error"] = {"message": error.message, "kind": error.kind, "status_code": error.status_code}
        _record(db, last, started, time.time(), None, payload)
        raise
    applied = db.summary_save(
        session_id=session_id,
        summary=text,
        topics=topics,
        last_run_id=last.run_id,
        expected_last_run_id=previous.last_run_id if previous else expected_last_run_id,
    )
    payload.update(
        response={"text": response.text},
        summary=text,
        topics=topics,
        applied=applied,
        model_id=response.model_id,
    )
    _record(db, last, response.started_at or started, response.ended_at or time.time(), response, payload)
    return applied


def _record(
    db: AgentDb,
    run: RunHandle,
    started: float,
    ended: float,
    response: ModelResponse | None,
    payload: dict[str, Any],
) -> None:
    # On the last run folded, so the timeline draws the summary request after that run's reply.
    db.run_events_record(
        run=run,
        events=[
            EventRecord(
                kind="summary",
                name="session_summary",
                started_at=to_datetime(started),
                ended_at=to_datetime(ended),
                input_tokens=response.usage.input_tokens if response else 0,
                output_tokens=response.usage.output_tokens if response else 0,
                payload=payload,
            )
        ],
    )


def record_failure(db: AgentDb, run: RunHandle, exc: BaseException) -> None:
    """A summary update run inline failed: note it on the user's run, which stays completed."""
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    logger.warning("session summary update after run %s failed: %s", run.run_id, message)
    now = to_datetime(time.time())
    try:
        db.run_events_record(
            run=run,
            events=[
                EventRecord(
                    kind="error",
                    name="error",
                    started_at=now,
                    ended_at=now,
                    payload={
                        "message": f"Session summary update failed: {message}",
                        "kind": getattr(exc, "kind", "internal"),
                        "job": "summary",
                    },
                )
            ],
        )
    except Exception:  # the storage itself is failing; the run is already stored, so only log
        logger.exception("could not record the failed summary update of run %s", run.run_id)
