"""Memory optimisation: merge a person's duplicate and near-duplicate memories into fewer ones.

A strategy plans the merges (which memories say the same thing, and the one sentence that says it
all); `optimize_memories` applies them through the storage's `memories_merge`, each merge one
audited change that can be reverted. With `apply=False` it is a dry run: the plan, nothing written.

The summarise strategy asks the model once, about the person's most recently updated memories:
at most MAX_MEMORIES_PER_REQUEST of them and MAX_REQUEST_CHARS of their text, so the request costs
the same whatever their number. Each memory is shown whole (one cut short could be merged into a
sentence that lost its end); older ones than fit are left as they are.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from agentapp.llm.types import Message, Model

from ..errors import AgentError
from ..prompt import estimate_tokens
from ..records import UserMemory
from .storage import MemoryStorage

logger = logging.getLogger(__name__)

ACTOR = "memory_manager"
MAX_MEMORIES_PER_REQUEST = 200
MAX_REQUEST_CHARS = 60_000  # about 15,000 tokens of memories
MAX_MERGED_CHARS = 2_000  # what the storages accept as one memory
MAX_TOPICS = 10
# The demo model recognises the optimisation request by this tag around the memories.
MEMORIES_TAG = "memories_to_optimize"

OPTIMIZATION_INSTRUCTIONS = (
    "You tidy up the long-term memories an assistant keeps about one user. The user message lists "
    f"them inside <{MEMORIES_TAG}>, one per line as '- [memory id] text (topics: ...)'. Find the "
    "memories that are duplicates or near-duplicates (they state the same fact, or one states "
    "everything another does) and merge each such group into one memory: a single sentence that "
    "keeps every detail of the group, in the same style (about 'User'). Leave memories that say "
    "different things apart, even on the same topic, and never merge a memory into two groups. "
    "Answer with JSON only, no prose, in exactly this shape: "
    '{"merges": [{"ids": ["<memory id>", "<memory id>"], "memory": "<the merged memory>", '
    '"topics": ["<topic>"]}]}. '
    'When nothing should be merged, answer {"merges": []}.'
)


class MemoryOptimizationStrategyType(StrEnum):
    """The built-in strategies by name, as Agno names them."""

    SUMMARIZE = "summarize"


@dataclass
class MemoryMerge:
    """One planned merge: the memories it replaces and the memory that replaces them."""

    source_ids: list[str]
    memory: str
    topics: list[str]
    sources: list[str] = field(default_factory=list)  # the replaced memories' texts, for people to read
    merged_id: str | None = None  # the new memory's id, once applied
    error: str = ""  # why it was not applied (a source deleted or changed meanwhile)


@dataclass
class OptimizationPlan:
    user_id: str
    merges: list[MemoryMerge]
    applied: bool
    merged_ids: list[str] = field(default_factory=list)  # the new memories' ids, when applied
    strategy: str = MemoryOptimizationStrategyType.SUMMARIZE.value
    memories_read: int = 0

    @property
    def memories_merged(self) -> int:
        return sum(len(merge.source_ids) for merge in self.merges if not merge.error)

    def describe(self) -> str:
        """The plan (or what was done) in a few lines a person can read."""
        done = [merge for merge in self.merges if not merge.error]
        if not self.merges:
            return f"Nothing to merge among the {self.memories_read} memories of {self.user_id}."
        verb = "Merged" if self.applied else "Would merge"
        lines = [
            f"{verb} {self.memories_merged} of the {self.memories_read} memories of {self.user_id} "
            f"into {len(done)}" + ("" if self.applied else " (dry run: nothing written)") + ":"
        ]
        for merge in self.merges:
            into = f" [{merge.merged_id}]" if merge.merged_id else ""
            lines.append(
                f"- {merge.memory!r}{into}" + (f" (not applied: {merge.error})" if merge.error else "")
            )
            texts = (
                merge.sources if len(merge.sources) == len(merge.source_ids) else [""] * len(merge.source_ids)
            )
            for source_id, text in zip(merge.source_ids, texts, strict=True):
                lines.append(f"    from [{source_id}] {text}".rstrip())
        return "\n".join(lines)


@runtime_checkable
class MemoryOptimizationStrategy(Protocol):
    def plan(self, memories: list[UserMemory], model: Model) -> list[MemoryMerge]:
        """The merges to make among `memories` (all of one person); may ask `model`."""
        ...


# --- the summarise strategy ---------------------------------------------------------------------
def memories_in_request(memories: Sequence[UserMemory]) -> list[tuple[UserMemory, str]]:
    """The memories one request shows, in their order, each with its line: whole lines only,
    within MAX_MEMORIES_PER_REQUEST and MAX_REQUEST_CHARS."""
    shown: list[tuple[UserMemory, str]] = []
    size = 0
    for memory in memories[:MAX_MEMORIES_PER_REQUEST]:
        topics = f" (topics: {', '.join(memory.topics)})" if memory.topics else ""
        line = f"- [{memory.memory_id}] {' '.join(memory.memory.split())}{topics}"
        if size + len(line) > MAX_REQUEST_CHARS:
            break
        shown.append((memory, line))
        size += len(line) + 1
    return shown


def build_optimization_request(memories: Sequence[UserMemory]) -> tuple[Message, ...]:
    lines = [line for _, line in memories_in_request(memories)]
    body = f"<{MEMORIES_TAG}>\n" + "\n".join(lines) + f"\n</{MEMORIES_TAG}>"
    return Message(role="system", content=OPTIMIZATION_INSTRUCTIONS), Message(role="user", content=body)


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def _answer_json(text: str) -> Any:
    """The model's JSON answer (a fenced block is unwrapped); None when it is not JSON."""
    fenced = _FENCE.match(text or "")
    try:
        return json.loads(fenced.group(1) if fenced else text)
    except (ValueError, RecursionError):
        return None


def _clean_topics(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        return None
    topics: list[str] = []
    for topic in value:
        topic = " ".join(topic.lower().split())
        if topic and topic not in topics:
            topics.append(topic)
    return topics[:MAX_TOPICS]


def valid_merges(groups: Sequence[Any], memories: Sequence[UserMemory]) -> list[MemoryMerge]:
    """The groups that make sense: ids of `memories` only (unknown ones dropped), at least two of
    them, a non-empty memory of at most MAX_MERGED_CHARS; a group naming a memory an earlier group
    took is dropped whole, since its sentence was written with that memory in it."""
    known = {memory.memory_id: memory for memory in memories}
    taken: set[str] = set()
    merges: list[MemoryMerge] = []
    for group in groups:
        if isinstance(group, MemoryMerge):
            group = {"ids": group.source_ids, "memory": group.memory, "topics": group.topics}
        if not isinstance(group, dict):
            continue
        ids = group.get("ids", group.get("memory_ids"))
        text = group.get("memory")
        if not isinstance(ids, list) or not isinstance(text, str):
            continue
        ids = [i for i in dict.fromkeys(i for i in ids if isinstance(i, str)) if i in known]
        text = " ".join(text.split())
        if len(ids) < 2 or not text or len(text) > MAX_MERGED_CHARS or taken.intersection(ids):
            continue
        topics = _clean_topics(group.get("topics"))
        if topics is None:  # none given (or not strings): the sources' topics
            topics = _clean_topics([t for i in ids for t in known[i].topics]) or []
        taken.update(ids)
        merges.append(MemoryMerge(ids, text, topics, sources=[known[i].memory for i in ids]))
    return merges


def parse_merges(text: str, memories: Sequence[UserMemory]) -> list[MemoryMerge]:
    """The merges the model's answer asks for, checked by `valid_merges`; none for an answer that is
    not the JSON asked for."""
    answer = _answer_json(text)
    if isinstance(answer, dict):
        answer = answer.get("merges")
    if not isinstance(answer, list):
        logger.warning("memory optimisation: the model's answer is not the JSON asked for: %.200r", text)
        return []
    return valid_merges(answer, memories)


class SummarizeStrategy:
    """One model request over the person's memories: it names the groups to merge and writes each
    group's merged memory."""

    name = MemoryOptimizationStrategyType.SUMMARIZE.value

    def plan(self, memories: list[UserMemory], model: Model) -> list[MemoryMerge]:
        shown = [memory for memory, _ in memories_in_request(memories)]
        if len(shown) < 2:
            return []
        response = model.request(build_optimization_request(shown))
        return parse_merges(response.text, shown)  # ids of memories it was not shown are unknown

    def count_tokens(self, memories: Sequence[UserMemory]) -> int:
        """The memories' texts in tokens, estimated (Agno's, to show what optimising saved)."""
        return sum(estimate_tokens(memory.memory or "") for memory in memories)


STRATEGIES: dict[MemoryOptimizationStrategyType, type[SummarizeStrategy]] = {
    MemoryOptimizationStrategyType.SUMMARIZE: SummarizeStrategy,
}


def strategy_for(strategy: MemoryOptimizationStrategy | MemoryOptimizationStrategyType | str | None) -> Any:
    """A strategy object for a name, an enum member, a strategy, or None (summarise)."""
    if strategy is None:
        return SummarizeStrategy()
    if isinstance(strategy, str):  # the enum is a str too
        try:
            return STRATEGIES[MemoryOptimizationStrategyType(strategy)]()
        except ValueError:
            raise ValueError(f"unknown memory optimisation strategy {strategy!r}") from None
    if isinstance(strategy, MemoryOptimizationStrategy):
        return strategy
    raise TypeError(f"{strategy!r} is not a memory optimisation strategy (it needs a plan() method)")


def _strategy_name(strategy: Any) -> str:
    return str(getattr(strategy, "name", type(strategy).__name__))


# --- planning and applying --------------------------------------------------------------------------
def optimize_memories(
    *,
    db: MemoryStorage,
    model: Model,
    user_id: str,
    strategy: MemoryOptimizationStrategy | MemoryOptimizationStrategyType | str | None = None,
    apply: bool = True,
    actor: str = ACTOR,
    limit: int = MAX_MEMORIES_PER_REQUEST,
) -> OptimizationPlan:
    """Plan the merges of the user's memories (the `limit` most recently updated) and, with `apply`,
    make them. Raises the model's ModelError when the strategy's request fails."""
    chosen = strategy_for(strategy)
    memories = db.user_memories(user_id=user_id, limit=max(0, limit))
    # A custom strategy's answer is held to the same rules as the model's.
    merges = valid_merges(chosen.plan(list(memories), model), memories)
    plan = OptimizationPlan(
        user_id=user_id,
        merges=merges,
        applied=False,
        strategy=_strategy_name(chosen),
        memories_read=len(memories),
    )
    return apply_plan(db=db, plan=plan, actor=actor) if apply else plan


def apply_plan(*, db: MemoryStorage, plan: OptimizationPlan, actor: str = ACTOR) -> OptimizationPlan:
    """Make the plan's merges, each on its own: one whose sources were deleted or edited since the
    plan was made is left out (its `error` says why), the others still go through."""
    for merge in plan.merges:
        if merge.merged_id or merge.error:
            continue
        try:
            merged = db.memories_merge(
                user_id=plan.user_id,
                memory_ids=list(merge.source_ids),
                memory=merge.memory,
                topics=list(merge.topics),
                actor=actor,
                source_texts=merge.sources if len(merge.sources) == len(merge.source_ids) else None,
            )
        except AgentError as exc:
            merge.error = exc.message
            continue
        merge.merged_id = merged.stored_id
        plan.merged_ids.append(merged.stored_id)
    plan.applied = True
    return plan
