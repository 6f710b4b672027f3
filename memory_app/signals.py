"""What the memory services announce, for whoever does the work that follows (they send no work)."""

from __future__ import annotations

from django.dispatch import Signal

# A memory's text is new (created, changed or restored): its embedding is to be made.
# Sent inside the write's transaction with `memory_pks`; a receiver acts once it commits.
memory_text_changed = Signal()
