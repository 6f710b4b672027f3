"""Every write to a memory goes through here and leaves a MemoryChange, whoever makes it. One module
per sub-domain: memories (create, update, delete, restore), validity (supersede, expire, reopen),
reverts, forgetting (what a run learned, undone), merges, imports, extraction (the automatic
update's one claim per run) and embeddings; text and changes hold what they share.
The public functions are re-exported: callers write `services.memory_create(...)`."""

from __future__ import annotations

from .embeddings import memory_embeddings_save
from .extraction import (
    Claim,
    ExtractionOutcome,
    followup_lease,
    memory_extraction_claim,
    memory_extraction_finish,
    memory_extraction_perform,
)
from .forgetting import Forgetting, run_forget, run_unforget
from .imports import MAX_IMPORT_MEMORIES, memories_import
from .memories import memory_create, memory_delete, memory_restore, memory_update
from .merges import MAX_MERGE_SOURCES, memories_merge
from .moves import memories_move
from .proposals import proposal_create, proposal_discard, proposal_keep, proposals_discard_for_run
from .reverts import memory_revert
from .text import MAX_MEMORY_CHARS, MAX_TOPIC_CHARS, MAX_TOPICS, clean_text, clean_topics, normalize_text
from .validity import memory_expire, memory_reopen, memory_supersede

__all__ = [
    "MAX_IMPORT_MEMORIES",
    "MAX_MEMORY_CHARS",
    "MAX_MERGE_SOURCES",
    "MAX_TOPICS",
    "MAX_TOPIC_CHARS",
    "Claim",
    "ExtractionOutcome",
    "Forgetting",
    "clean_text",
    "clean_topics",
    "followup_lease",
    "memories_import",
    "memories_merge",
    "memories_move",
    "memory_create",
    "memory_delete",
    "memory_embeddings_save",
    "memory_expire",
    "memory_extraction_claim",
    "memory_extraction_finish",
    "memory_extraction_perform",
    "memory_reopen",
    "memory_restore",
    "memory_revert",
    "memory_supersede",
    "memory_update",
    "normalize_text",
    "proposal_create",
    "proposal_discard",
    "proposal_keep",
    "proposals_discard_for_run",
    "run_forget",
    "run_unforget",
]
