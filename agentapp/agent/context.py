"""Assembles what the model sees: instructions, memories, summary, history, the new message."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from agentapp.llm.types import Message

from .records import SessionSummaryRecord, UserMemory

DEFAULT_INSTRUCTIONS = "You are a helpful assistant. Answer clearly and concisely."

AGENTIC_MEMORY_GUIDANCE = (
    "You can remember facts about the user across conversations with the tools add_memory, "
    "update_memory and delete_memory. When the user tells you something lasting about themselves "
    "(name, preferences, circumstances, goals), store it as one short sentence about the user. "
    "When a stored memory is wrong or out of date, update or delete it by its id. "
    "Do not store small talk or facts about other people."
)

MEMORY_MANAGER_INSTRUCTIONS = (
    "You maintain long-term memories about a user. Below are the memories already stored and the "
    "messages the user sent in their latest conversation turn. Use add_memory for lasting new facts "
    "about the user, update_memory when a stored memory changed, delete_memory when one is wrong. "
    "Never store a fact that is already stored. If nothing needs to change, reply 'No changes.'"
)


def estimate_tokens(text: str) -> int:
    """A provider-neutral estimate (about four characters a token) for the context breakdown."""
    return math.ceil(len(text) / 4) if text else 0


def render_memories(memories: Sequence[UserMemory]) -> str:
    lines = []
    for memory in memories:
        topics = f" (topics: {', '.join(memory.topics)})" if memory.topics else ""
        lines.append(f"- [{memory.memory_id}] {memory.memory}{topics}")
    return "<memories>\n" + "\n".join(lines) + "\n</memories>"


def render_summary(summary: SessionSummaryRecord) -> str:
    return f"<session_summary>\n{summary.summary}\n</session_summary>"


@dataclass(frozen=True)
class ContextSection:
    name: str  # instructions, memories, summary, history, message
    tokens: int
    items: int = 1


@dataclass(frozen=True)
class AssembledContext:
    messages: tuple[Message, ...]
    sections: tuple[ContextSection, ...]
    memories_used: tuple[str, ...]

    @property
    def total_tokens(self) -> int:
        return sum(section.tokens for section in self.sections)


def build_context(
    *,
    instructions: str,
    message: str,
    history: Sequence[Message] = (),
    memories: Sequence[UserMemory] = (),
    summary: SessionSummaryRecord | None = None,
    agentic_memory: bool = False,
) -> AssembledContext:
    instruction_text = instructions.strip()
    if agentic_memory:
        instruction_text = f"{instruction_text}\n\n{AGENTIC_MEMORY_GUIDANCE}"
    system_parts = [instruction_text]
    sections = [ContextSection("instructions", estimate_tokens(instruction_text))]
    if memories:
        memory_text = "What you know about the user:\n" + render_memories(memories)
        system_parts.append(memory_text)
        sections.append(ContextSection("memories", estimate_tokens(memory_text), len(memories)))
    if summary is not None and summary.summary:
        summary_text = "Summary of the earlier conversation:\n" + render_summary(summary)
        system_parts.append(summary_text)
        sections.append(ContextSection("summary", estimate_tokens(summary_text)))
    messages = [Message(role="system", content="\n\n".join(system_parts))]
    if history:
        messages.extend(history)
        sections.append(
            ContextSection("history", sum(estimate_tokens(m.content) for m in history), len(history))
        )
    messages.append(Message(role="user", content=message))
    sections.append(ContextSection("message", estimate_tokens(message)))
    return AssembledContext(
        messages=tuple(messages),
        sections=tuple(sections),
        memories_used=tuple(m.memory_id for m in memories),
    )


def build_memory_manager_context(
    *, memories: Sequence[UserMemory], user_messages: Sequence[str]
) -> tuple[Message, ...]:
    stored = render_memories(memories) if memories else "<memories>\n(none yet)\n</memories>"
    turn = "\n".join(f"- {text}" for text in user_messages)
    return (
        Message(role="system", content=f"{MEMORY_MANAGER_INSTRUCTIONS}\n\nStored memories:\n{stored}"),
        Message(role="user", content=f"The user's messages in this turn:\n{turn}"),
    )
