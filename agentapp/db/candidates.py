"""What the Django database supplies to THE ranking (agentapp.agent.memory.recall): a person's
newest memories, and their candidates for a text by every signal. The ranking itself is not here."""

from __future__ import annotations

from agentapp.agent.memory.query_embedding import QueryVector
from agentapp.agent.memory.recall import Candidate, CandidateSource, NewestMemories, common_word_count
from agentapp.agent.records import UserMemory
from memory_app import selectors as memory_selectors

from .records import recalled_memory


def newest_memories(*, user_pk: int, username: str, include_past: bool = False) -> NewestMemories:
    def newest(n: int) -> tuple[list[UserMemory], int]:
        rows, total = memory_selectors.memories_for_context(
            user_pk=user_pk, limit=n, include_past=include_past
        )
        return [recalled_memory(row, username) for row in rows], total

    return newest


def memory_candidates(
    *, user_pk: int, username: str, text: str, include_past: bool = False
) -> CandidateSource:
    def candidates(vector: QueryVector | None, per_signal: int, total: int) -> list[Candidate]:
        rows = memory_selectors.memory_recall_candidates(
            user_pk=user_pk,
            text=text,
            vector=vector.vector if vector is not None else None,
            model=vector.model if vector is not None else "",
            per_signal=per_signal,
            common=common_word_count(total),
            total=total,
            exact=total <= memory_selectors.EXACT_MEANING_MAX,
            include_past=include_past,
        )
        return [
            Candidate(
                memory=recalled_memory(row, username),
                meaning_rank=row["meaning_rank"],
                similarity=row["similarity"],
                words_rank=row["words_rank"],
                words_score=row["words_score"],
                recency_rank=row["recency_rank"],
            )
            for row in rows
        ]

    return candidates
