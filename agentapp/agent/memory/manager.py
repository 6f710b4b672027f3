"""`MemoryManager`, as Agno's: how memories are captured (its own model, prompt and allowed writes),
usable alone over a `db` and by an Agent for `update_memory_on_run` and agentic memory.

Every write goes through the storage's audited verbs, with the actor `memory_manager` (the model's
own tool calls during a run keep the actor `model`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from agentapp.llm.embeddings import Embedder
from agentapp.llm.types import Message, Model

from ..errors import InvalidInput
from ..events import MemoryUpdated
from ..prompt import SEPARATOR, Span, render_memories
from ..records import DEFAULT_USER_ID, RunHandle, UserMemory
from ..telemetry import StepSpans
from ..timeline import Timeline
from .manager_agno import ManagerAgnoVerbs, no_db
from .manager_pass import ACTOR, MemoryPass, MemoryUpdate
from .optimization import MemoryOptimizationStrategy, OptimizationPlan, optimize_memories
from .query_embedding import QueryEmbedding, capped_query_embedding
from .recall import RecallQuery
from .storage import MemoryStorage
from .tools import memory_tools

DEFAULT_SYSTEM_MESSAGE = (
    "You maintain long-term memories about a user: facts that help personalise later conversations "
    "with them. Below are the memories already stored and what the user said (or the task you are "
    "given)."
)
DEFAULT_CAPTURE_INSTRUCTIONS = (
    "Capture lasting facts about the user: their name, preferences, circumstances, plans and goals. "
    "Do not store small talk, questions, or facts about other people."
)
# How to tell a change of fact from a new fact, and a change from a correction: each memory is shown
# with the day it was learned, so the model can see which is older.
CHANGE_OF_FACT = (
    "A fact that changed (a new city, job, partner, count, or a plan given up) replaces the stored "
    "one it contradicts: add the new fact with `replaces`, never beside the old one. A new fact that "
    "contradicts nothing stored (a second hobby, another trip) is simply added. Fixing a typo or a "
    "wrong detail is an update, not a change."
)
DEFAULT_MAX_TOOL_ROUNDS = 5


class MemoryManager(ManagerAgnoVerbs):
    """Agno's MemoryManager: `model` (a cheaper one than the agent's, say), `system_message` (replaces
    the opening), `memory_capture_instructions` (what is worth keeping), `additional_instructions`
    (appended), and which writes it may make (`add_memories`, `update_memories`, `delete_memories`,
    `clear_memories`; Agno's defaults). With a `db`, it works alone; given to an Agent, the Agent's
    db is used and its model when the manager has none."""

    def __init__(
        self,
        model: Model | None = None,
        system_message: str | None = None,
        memory_capture_instructions: str | None = None,
        additional_instructions: str | None = None,
        db: MemoryStorage | None = None,
        delete_memories: bool = False,
        update_memories: bool = True,
        add_memories: bool = True,
        clear_memories: bool = False,
        debug_mode: bool = False,
        memory_context_limit: int = 50,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        embedder: Embedder | None = None,
        id: str | None = None,
        name: str | None = None,
    ) -> None:
        # Agno's: an id of its own when none is given, so two managers of a kind stay apart.
        self.id: str = id or f"memory_manager_{uuid.uuid4().hex[:8]}"
        self.name = name
        self.model = model
        self.system_message = system_message
        self.memory_capture_instructions = memory_capture_instructions
        self.additional_instructions = additional_instructions
        self.db = db
        self.delete_memories = delete_memories
        self.update_memories = update_memories
        self.add_memories = add_memories
        self.clear_memories = clear_memories
        self.debug_mode = debug_mode  # accepted for Agno's scripts; the run timeline is the debug view
        self.memory_context_limit = memory_context_limit
        self.max_tool_rounds = max_tool_rounds
        self.embedder = embedder

    # --- the prompt ---------------------------------------------------------------------------
    def instructions(self) -> str:
        """The system message's instructions, as operators see them on the run page."""
        allowed = [
            name
            for name, on in (
                ("add_memory for a new fact", self.add_memories),
                (
                    "add_memory with `replaces` set to the stored memory's id when a fact changed "
                    "(the old one stays as a past fact)",
                    self.add_memories,
                ),
                ("update_memory only to correct a stored memory's wording", self.update_memories),
                ("delete_memory when one is wrong", self.delete_memories),
                ("clear_memories when asked to forget everything", self.clear_memories),
            )
            if on
        ]
        parts = [
            self.system_message or DEFAULT_SYSTEM_MESSAGE,
            self.memory_capture_instructions or DEFAULT_CAPTURE_INSTRUCTIONS,
            "Use "
            + "; ".join(allowed)
            + ". Never store a fact that is already stored. "
            + CHANGE_OF_FACT
            + " If nothing needs to change, reply 'No changes.'",
        ]
        if self.additional_instructions:
            parts.append(self.additional_instructions)
        return "\n\n".join(part.strip() for part in parts if part and part.strip())

    def context(
        self, *, memories: Sequence[UserMemory], user_messages: Sequence[str] = (), task: str | None = None
    ) -> tuple[tuple[Message, ...], tuple[Span, ...]]:
        """The manager's request, with where each part sits (for the run page's context view)."""
        instructions = self.instructions()
        stored = render_memories(memories) if memories else "<memories>\n(none yet)\n</memories>"
        memory_part = f"Stored memories:\n{stored}"
        system = f"{instructions}{SEPARATOR}{memory_part}"
        split = len(instructions)
        if task is not None:
            user = f"Your task:\n{task}"
        else:
            user = "The user's messages in this turn:\n" + "\n".join(f"- {text}" for text in user_messages)
        spans = (
            Span("instructions", 0, 0, split),
            Span("memories", 0, split + len(SEPARATOR), len(system)),
            Span("message", 1),
        )
        return (Message(role="system", content=system), Message(role="user", content=user)), spans

    def tools_allowed(self) -> dict[str, bool]:
        return {
            "add": self.add_memories,
            "update": self.update_memories,
            "delete": self.delete_memories,
            "clear": self.clear_memories,
        }

    # --- running the manager -----------------------------------------------------------------
    def run(
        self,
        *,
        db: MemoryStorage,
        run: RunHandle,
        model: Model,
        user_messages: Sequence[str] = (),
        task: str | None = None,
        on_change: Callable[[str, UserMemory], None] | None = None,
        embed: QueryEmbedding | None = None,
    ) -> MemoryUpdate:
        """One manager pass for `run`'s user (a real run, or `db.memory_scope(...)` outside one):
        each request and tool call goes on that run's timeline."""
        return self.prepare(
            db=db,
            run=run,
            model=model,
            user_messages=user_messages,
            task=task,
            on_change=on_change,
            embed=embed,
        ).finish()

    def prepare(
        self,
        *,
        db: MemoryStorage,
        run: RunHandle,
        model: Model,
        user_messages: Sequence[str] = (),
        task: str | None = None,
        on_change: Callable[[str, UserMemory], None] | None = None,
        embed: QueryEmbedding | None = None,
    ) -> MemoryPass:
        """`run`'s pass made ready (the stored memories read, its request and tools made), nothing
        asked or written yet: `finish` does that."""
        outcome = MemoryUpdate()
        embed = embed if embed is not None else self._embed()
        spans = StepSpans.under_current_span(model)  # a worker's task span, when tracing is on

        def changed(action: str, memory: UserMemory) -> None:
            outcome.changes.append(MemoryUpdated(run.run_id, action, memory.stored_id, memory.memory))
            spans.memory_written(action=action, memory_id=memory.stored_id)
            if on_change is not None:
                on_change(action, memory)

        # The stored memories most like what was said (not the most recent), so that an older fact
        # is updated rather than added again.
        query = RecallQuery(
            text=task or "\n".join(user_messages), limit=self.memory_context_limit, embed=embed
        )
        memories = db.memories_recall(run=run, query=query).memories
        messages, layout = self.context(memories=memories, user_messages=user_messages, task=task)
        tools = memory_tools(
            db=db, run=run, actor=ACTOR, on_change=changed, embed=embed, allowed=self.tools_allowed()
        )
        return MemoryPass(
            model=model,
            messages=messages,
            layout=layout,
            tools=tools,
            max_tool_rounds=self.max_tool_rounds,
            timeline=Timeline(db, run),
            spans=spans,
            outcome=outcome,
        )

    # --- standalone, over `db` (Agno's methods) ------------------------------------------------
    def _store(self) -> MemoryStorage:
        if self.db is None:
            raise ValueError("this MemoryManager has no db: give MemoryManager(db=...)")
        return self.db

    def _embed(self) -> QueryEmbedding | None:
        """How a recall query is embedded: as the Agent's `embedder` is, capped."""
        return capped_query_embedding(self.embedder) if self.embedder is not None else None

    def _model(self) -> Model:
        if self.model is None:
            raise ValueError("this MemoryManager has no model: give MemoryManager(model=...)")
        return self.model

    def get_user_memories(
        self, user_id: str | None = None, *, as_of: datetime | None = None, include_superseded: bool = False
    ) -> list[UserMemory]:
        """The person's memories; without a db, none (and a warning), as Agno's."""
        if self.db is None:
            no_db("get_user_memories")
            return []
        return self.db.get_user_memories(
            user_id or DEFAULT_USER_ID, as_of=as_of, include_superseded=include_superseded
        )

    def get_user_memory(self, memory_id: str, user_id: str | None = None) -> UserMemory | None:
        if self.db is None:
            no_db("get_user_memory")
            return None
        return self.db.get_user_memory(memory_id, user_id or DEFAULT_USER_ID)

    def add_user_memory(self, memory: UserMemory, user_id: str | None = None) -> str | None:
        """Store `memory` for `user_id` ("default" without one); its id, also set on `memory`. None
        without a db."""
        memory.user_id = user_id or memory.user_id or DEFAULT_USER_ID
        if self.db is None:
            no_db("add_user_memory")
            return None
        memory.memory_id = None
        return self.db.upsert_user_memory(memory, actor=ACTOR).memory_id

    def replace_user_memory(
        self, memory_id: str, memory: UserMemory, user_id: str | None = None
    ) -> str | None:
        memory.user_id = user_id or memory.user_id or DEFAULT_USER_ID
        if self.db is None:
            no_db("replace_user_memory")
            return None
        if self.db.get_user_memory(memory_id, memory.user_id) is None:
            raise InvalidInput(f"memory {memory_id!r} not found for user {memory.user_id!r}")
        memory.memory_id = memory_id
        return self.db.upsert_user_memory(memory, actor=ACTOR).memory_id

    def delete_user_memory(self, memory_id: str, user_id: str | None = None) -> bool:
        if self.db is None:
            no_db("delete_user_memory")
            return False
        return self.db.delete_user_memory(memory_id, user_id or DEFAULT_USER_ID, actor=ACTOR)

    def clear_user_memories(self, user_id: str | None = None) -> int:
        """Delete one person's memories (never everyone's); how many."""
        if self.db is None:
            no_db("clear_user_memories")
            return 0
        return self.db.clear_memories(user_id or DEFAULT_USER_ID, actor=ACTOR)

    def create_user_memories(
        self,
        message: str | None = None,
        messages: Sequence[Message] | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """Ask the model to capture what is worth keeping from `message` or the user's `messages`;
        the model's closing words."""
        if message:
            said = [message]
        elif messages:
            said = [m.content for m in messages if m.role == "user" and m.content]
        else:
            raise ValueError("give message or messages")
        return self._standalone(user_id, user_messages=said).reply

    def update_memory_task(self, task: str, user_id: str | None = None) -> str:
        """Ask the model to carry out `task` on the memories ("forget where I live"), within the
        writes this manager allows; the model's closing words."""
        return self._standalone(user_id, task=task).reply

    def _standalone(self, user_id: str | None, **asked: Any) -> MemoryUpdate:
        store = self._store()
        outcome = self.run(
            db=store, run=store.memory_scope(user_id=user_id or DEFAULT_USER_ID), model=self._model(), **asked
        )
        if outcome.error is not None:
            raise outcome.error
        return outcome

    def search_user_memories(
        self,
        query: str | None = None,
        limit: int | None = None,
        retrieval_method: Literal["last_n", "first_n", "relevance", "agentic"] | None = None,
        user_id: str | None = None,
    ) -> list[UserMemory]:
        """`last_n`: the most recently updated (oldest of them first, as Agno); `first_n`: the
        oldest; `relevance` (and Agno's `agentic`): the best for `query` by the project's recall
        (meaning with an `embedder`, words, recency), best first."""
        user = user_id or DEFAULT_USER_ID
        store = self._store()
        if retrieval_method in ("relevance", "agentic"):
            if not query:
                raise ValueError("a relevance search needs a query")
            found = store.memories_recall(
                run=store.memory_scope(user_id=user),
                query=RecallQuery(text=query, limit=limit or self.memory_context_limit, embed=self._embed()),
            )
            return list(found.memories)
        if retrieval_method == "first_n":
            return store.get_user_memories(user, sort_by="updated_at", sort_order="asc", limit=limit)
        newest = store.get_user_memories(user, sort_by="updated_at", sort_order="desc", limit=limit)
        return list(reversed(newest))

    def optimize_memories(
        self,
        user_id: str | None = None,
        strategy: MemoryOptimizationStrategy | str | None = None,
        apply: bool = True,
    ) -> list[UserMemory]:
        """Merge duplicate and near-duplicate memories into fewer (see memory.optimization); the
        person's memories after it, as Agno returns them. apply=False is a dry run: the memories as
        they would be, nothing written. `plan_optimization` gives the plan itself."""
        plan = self.plan_optimization(user_id, strategy, apply)
        if apply:
            return self.get_user_memories(plan.user_id)
        merged = {source for merge in plan.merges if not merge.error for source in merge.source_ids}
        kept = [memory for memory in self.get_user_memories(plan.user_id) if memory.memory_id not in merged]
        return kept + [
            UserMemory(memory=merge.memory, topics=list(merge.topics), user_id=plan.user_id)
            for merge in plan.merges
            if not merge.error
        ]

    def plan_optimization(
        self,
        user_id: str | None = None,
        strategy: MemoryOptimizationStrategy | str | None = None,
        apply: bool = True,
    ) -> OptimizationPlan:
        """The optimisation's plan (the merges, and whether they were made): what the app shows."""
        return optimize_memories(
            db=self._store(),
            model=self._model(),
            user_id=user_id or DEFAULT_USER_ID,
            strategy=strategy,
            apply=apply,
            actor=ACTOR,
        )


def update_memories(
    *,
    model: Model,
    db: MemoryStorage,
    run: RunHandle,
    memory_context_limit: int,
    max_tool_rounds: int,
    embed: QueryEmbedding | None = None,
    manager: MemoryManager | None = None,
) -> MemoryUpdate:
    """The automatic memory update after a run (`update_memory_on_run`): the Agent's manager, with its
    own model when it has one; without a manager, one that may add, update and delete."""
    return memory_update_pass(
        model=model,
        db=db,
        run=run,
        memory_context_limit=memory_context_limit,
        max_tool_rounds=max_tool_rounds,
        embed=embed,
        manager=manager,
    ).finish()


def memory_update_pass(
    *,
    model: Model,
    db: MemoryStorage,
    run: RunHandle,
    memory_context_limit: int,
    max_tool_rounds: int,
    embed: QueryEmbedding | None = None,
    manager: MemoryManager | None = None,
) -> MemoryPass:
    """`update_memories` made ready, not yet run (what a script's run starts alongside its reply)."""
    if manager is None:
        manager = MemoryManager(
            memory_context_limit=memory_context_limit, max_tool_rounds=max_tool_rounds, delete_memories=True
        )
    return manager.prepare(
        db=db,
        run=run,
        model=manager.model or model,
        user_messages=db.run_user_messages(run=run),
        embed=embed,
    )
