"""Short automatic titles for chat sessions: the model's 3-6 words, or the first words of the message."""

from __future__ import annotations

import logging
import re

from django.conf import settings

from agentapp.app_agent import configured_model
from agentapp.llm.factory import model_from_spec
from agentapp.llm.types import Message, Model, ModelError

from . import services
from .models import AgentSession, Run

logger = logging.getLogger(__name__)

FALLBACK_WORDS = 6
MAX_TITLE_CHARS = 60
TITLE_TIMEOUT_SECONDS = 10.0
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


def _clean(answer: str) -> str:
    line = next((part for part in (answer or "").splitlines() if part.strip()), "")
    line = re.sub(r"^(title\s*:\s*)", "", line.strip(), flags=re.IGNORECASE)
    line = line.strip().strip("\"'*#`").strip().rstrip(".!?:;")
    words = line.split()
    if not words or len(words) > 12:
        return ""
    return title_from_text(line, words=8)


def _title_model() -> Model | None:
    model = configured_model()
    if getattr(model, "is_offline_demo", False):
        return None  # the demo model has no idea what a title is: first words read better
    return model_from_spec(
        settings.AGENT_MODEL,
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        timeout=min(TITLE_TIMEOUT_SECONDS, settings.AGENT_MODEL_TIMEOUT),
    )


def title_suggest(text: str, *, model: Model | None) -> str:
    """Ask `model` for a short title (bounded by its timeout); the first words when it cannot say."""
    if model is not None:
        try:
            response = model.request(
                [Message(role="system", content=TITLE_PROMPT), Message(role="user", content=text[:2000])]
            )
        except ModelError as error:
            logger.warning("no title from the model: %s", error.message)
        else:
            title = _clean(response.text)
            if title:
                return title
    return title_from_text(text)


def _first_input(session: AgentSession) -> str | None:
    return Run.objects.filter(session=session).order_by("id").values_list("input", flat=True).first()


def session_title_generate(*, session_id: str) -> str:
    """Title an untitled session from its first message; returns the session's title afterwards."""
    session = AgentSession.objects.filter(session_id=session_id).first()
    if session is None or session.title:
        return session.title if session else ""
    text = _first_input(session)
    if not text:
        return ""
    services.session_title_set_if_empty(
        session_pk=session.pk, title=title_suggest(text, model=_title_model())
    )
    session.refresh_from_db(fields=["title"])
    return session.title


def session_title_schedule(*, session: AgentSession) -> None:
    """After the first reply: a worker asks the model; without workers the first words are used at once."""
    if session.title:
        return
    if settings.AGENT_BACKGROUND_TASKS == "celery":
        from .tasks import enqueue, session_title_for_session

        # A broker that is down must not break the chat's final frame; the title can wait for a reload.
        enqueue(session_title_for_session, session.session_id, on_commit=True)
        return
    text = _first_input(session)
    if text:
        services.session_title_set_if_empty(session_pk=session.pk, title=title_from_text(text))
