"""Short titles for sessions: the model's 3-6 words, or the first words of the first message."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from agentapp.llm.types import Message, Model, ModelError

from ..errors import InvalidInput
from ..telemetry import StepSpans

if TYPE_CHECKING:
    from ..records import RunHandle
    from ..storage import AgentDb

logger = logging.getLogger(__name__)

FALLBACK_WORDS = 6
MAX_TITLE_CHARS = 60
MAX_PROMPT_CHARS = 2_000
TITLE_PROMPT = (
    "Write a title of 3 to 6 words for a conversation that starts with the message below. "
    "Answer with the title only: no quotes, no punctuation at the end."
)


def title_from_text(text: str, *, words: int = FALLBACK_WORDS) -> str:
    """The first few words of a message, shortened with an ellipsis when cut."""
    parts = (text or "").split()
    title = " ".join(parts[:words])
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    elif len(parts) > words:
        title += "…"
    return title


def clean_title(answer: str) -> str:
    """The title in a model's answer (its first line, without quotes or a "Title:" label); "" if none."""
    line = next((part for part in (answer or "").splitlines() if part.strip()), "")
    line = re.sub(r"^(title\s*:\s*)", "", line.strip(), flags=re.IGNORECASE)
    line = line.strip().strip("\"'*#`").strip().rstrip(".!?:;")
    words = line.split()
    if not words or len(words) > 12:
        return ""
    return title_from_text(line, words=8)


def title_request(text: str) -> tuple[Message, ...]:
    return (
        Message(role="system", content=TITLE_PROMPT),
        Message(role="user", content=text[:MAX_PROMPT_CHARS]),
    )


def suggest_title(text: str, *, model: Model | None) -> str:
    """Ask `model` for a short title (bounded by its timeout); the first words when it cannot say."""
    if model is not None:
        try:
            response = StepSpans.under_current_span(model).request(title_request(text))
        except ModelError as error:
            logger.warning("no title from the model: %s", error.message)
        else:
            title = clean_title(response.text)
            if title:
                return title
    return title_from_text(text)


def title_without_reply(db: AgentDb, run: RunHandle) -> None:
    """An untitled chat whose run ended with no reply (stopped, failed, cut off, timed out) gets
    the first words of its first message: no reply will title it, and no model is asked."""
    if run.session_has_title or run.controls.temporary:
        return
    try:
        first = db.session_first_message(session_id=run.session_id)
        if first:
            db.session_title_set(session_id=run.session_id, title=title_from_text(first))
    except InvalidInput:
        pass
    except Exception:  # a title is a nicety: the run's ending stands
        logger.exception("could not title session %s", run.session_id)
