"""manage.py memories_embed: embed, now, every memory without an embedding by the current embedder."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from agentapp import app_agent
from agentapp.errors import FollowupFailed
from memory_app import embedding as memory_embedding

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Embed every memory that has no embedding by the configured embedder (AGENT_EMBEDDER): new ones, "
        "and those another embedder made. Safe to stop and run again: it goes on where it stopped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        embedder = app_agent.configured_embedder()
        if embedder is None:
            raise CommandError(
                "no embedder is configured (AGENT_EMBEDDER=none): recall uses words and recency"
            )
        if app_agent.recall_embedder() is None:
            raise CommandError(
                "this database has no pgvector, so memories are not embedded (manage.py check)"
            )
        self.stdout.write(f"Embedding memories with {embedder.name}")
        try:
            done = memory_embedding.embed_pending(time_budget=float("inf"), progress=self._progress)
        except FollowupFailed as error:
            raise CommandError(
                f"the embedder failed: {error.message} (run the command again to go on)"
            ) from error
        if done:
            self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"{done} memories embedded; every memory has a current embedding")
        )

    def _progress(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        end = "\r" if sys.stdout.isatty() else "\n"
        self.stdout.write(f"[{bar}] {done}/{total}", ending=end)
        self.stdout.flush()
