"""Assembles what the model sees: instructions, memories, summary, history, the new message.

Each builder also says where every part went (`Span`s over the request's messages), so the run's
timeline can show the context part by part without ever re-reading the prompt's wording.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agentapp.llm.types import Message

from ..prompt import SEPARATOR, Span, estimate_tokens, render_memories, render_summary
from ..records import SessionSummaryRecord, UserMemory
from ..run_context import RunContext, fill_placeholders
from ..settings import AgentSettings

logger = logging.getLogger(__name__)

DEFAULT_INSTRUCTIONS = "You are a helpful assistant. Answer clearly and concisely."
MARKDOWN_INSTRUCTION = "Use markdown to format your answers."

AGENTIC_MEMORY_GUIDANCE = (
    "You can remember facts about the user across conversations with the tools add_memory, "
    "update_memory and delete_memory. When the user tells you something lasting about themselves "
    "(name, preferences, circumstances, goals), store it as one short sentence about the user. "
    "When a stored memory is wrong or out of date, update or delete it by its id. "
    "Do not store small talk or facts about other people."
)

SECTIONS = ("instructions", "person", "memories", "summary", "history", "message")


def person_instructions(about_you: str, how_to_respond: str) -> str:
    """The person's custom instructions (their settings), as the model reads them; "" when none."""
    parts = []
    if about_you.strip():
        parts.append(f"What the user says about themselves:\n{about_you.strip()}")
    if how_to_respond.strip():
        parts.append(f"How the user wants you to respond:\n{how_to_respond.strip()}")
    return "\n\n".join(parts)


def _message_tokens(message: Message) -> int:
    return estimate_tokens(message.content) + sum(
        estimate_tokens(call.name + call.arguments) for call in message.tool_calls
    )


@dataclass(frozen=True)
class ContextSection:
    name: str  # one of SECTIONS
    tokens: int
    items: int = 1


@dataclass(frozen=True)
class AssembledContext:
    messages: tuple[Message, ...]
    sections: tuple[ContextSection, ...]
    layout: tuple[Span, ...]
    memories_used: tuple[str, ...]

    @property
    def total_tokens(self) -> int:
        return sum(section.tokens for section in self.sections)


class _SystemMessage:
    """A system message built part by part, each part's span noted as it is added."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.length = 0

    def add(self, section: str, text: str) -> None:
        if self.parts:
            self.length += len(SEPARATOR)
        self.parts.append(text)
        self.spans.append(Span(section, 0, self.length, self.length + len(text)))
        self.length += len(text)

    def message(self) -> Message:
        return Message(role="system", content=SEPARATOR.join(self.parts))


def build_context(
    *,
    instructions: str,
    message: str,
    history: Sequence[Message] = (),
    memories: Sequence[UserMemory] = (),
    summary: SessionSummaryRecord | None = None,
    agentic_memory: bool = False,
    person: str = "",
) -> AssembledContext:
    instruction_text = instructions.strip()
    if agentic_memory:
        instruction_text = f"{instruction_text}{SEPARATOR}{AGENTIC_MEMORY_GUIDANCE}"
    system = _SystemMessage()
    system.add("instructions", instruction_text)
    sections = [ContextSection("instructions", estimate_tokens(instruction_text))]
    if person:
        system.add("person", person)
        sections.append(ContextSection("person", estimate_tokens(person)))
    if memories:
        memory_text = "What you know about the user:\n" + render_memories(memories)
        system.add("memories", memory_text)
        sections.append(ContextSection("memories", estimate_tokens(memory_text), len(memories)))
    if summary is not None and summary.summary:
        summary_text = "Summary of the earlier conversation:\n" + render_summary(summary)
        system.add("summary", summary_text)
        sections.append(ContextSection("summary", estimate_tokens(summary_text)))
    messages = [system.message(), *history, Message(role="user", content=message)]
    layout = [*system.spans, *(Span("history", index) for index in range(1, len(history) + 1))]
    layout.append(Span("message", len(messages) - 1))
    if history:
        sections.append(ContextSection("history", sum(_message_tokens(m) for m in history), len(history)))
    sections.append(ContextSection("message", estimate_tokens(message)))
    return AssembledContext(
        messages=tuple(messages),
        sections=tuple(sections),
        layout=tuple(layout),
        memories_used=tuple(m.stored_id for m in memories),
    )


def _now(timezone_identifier: str | None) -> datetime:
    if timezone_identifier:
        try:
            return datetime.now(ZoneInfo(timezone_identifier))
        except (ZoneInfoNotFoundError, ValueError):
            logger.warning("Invalid timezone identifier %r: the local time is given", timezone_identifier)
    return datetime.now()


def additional_information(settings: AgentSettings) -> list[str]:
    """Agno's `add_datetime_to_context` and `add_name_to_context` lines, in Agno's words."""
    lines = []
    if settings.add_datetime_to_context:
        now = _now(settings.timezone_identifier)
        shown = now.strftime(settings.datetime_format) if settings.datetime_format else str(now)
        lines.append(f"The current time is {shown}.")
    if settings.add_name_to_context and settings.name:
        lines.append(f"Your name is: {settings.name}.")
    return lines


def system_instructions(settings: AgentSettings, run_context: RunContext | None, *, agent: object) -> str:
    """What the system message opens with, as Agno composes it: the description, then the
    instructions (a string; a list, one "- " line each; or a callable returning either, given
    the `agent`, the `run_context` or the `session_state` it names), `{key}` placeholders filled
    from the session state, then the Markdown request and (add_session_state_to_context) the
    state itself."""
    state = run_context.session_state if run_context is not None else dict(settings.session_state or {})
    instructions: Any = settings.instructions
    if callable(instructions):
        offered = {"agent": agent, "run_context": run_context, "session_state": state}
        names = inspect.signature(instructions).parameters
        instructions = instructions(**{name: offered[name] for name in names if name in offered})
    if isinstance(instructions, str):
        body = instructions.strip()
    elif instructions:
        body = "\n".join(f"- {' '.join(str(line).split())}" for line in instructions if str(line).strip())
    else:
        body = ""
    parts = [settings.description.strip() if settings.description else "", body or DEFAULT_INSTRUCTIONS]
    parts = [fill_placeholders(part, state) for part in parts]
    if settings.markdown and (run_context is None or run_context.output_schema is None):  # Agno's rule
        parts.append(MARKDOWN_INSTRUCTION)
    parts.extend(additional_information(settings))
    parts.extend(dict.fromkeys(tool.instructions for tool in settings.tools if tool.instructions))
    if settings.add_session_state_to_context:
        shown = json.dumps(state, ensure_ascii=False, default=str, indent=2)
        parts.append(f"<session_state>\n{shown}\n</session_state>")
    return "\n\n".join(part for part in parts if part)
