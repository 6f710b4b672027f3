from __future__ import annotations

from django.apps import AppConfig


class MemoryAppConfig(AppConfig):
    name = "memory_app"
    verbose_name = "Agent memory"

    def ready(self) -> None:
        from .embedding import memories_written
        from .signals import memory_text_changed

        # A memory's new text is embedded once the write commits (the services only announce it).
        memory_text_changed.connect(memories_written, dispatch_uid="memory_app.embedding")
