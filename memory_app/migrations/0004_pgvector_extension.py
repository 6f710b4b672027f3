"""Enables pgvector (recall by meaning) where the server has it; a server without it migrates all the same.

`manage.py check` says when it is missing (agentapp.W002) and what to install.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)


def enable_pgvector(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cursor.fetchone() is None:
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except DatabaseError as exc:  # e.g. a role that may not create extensions
            logger.warning("pgvector is installed but could not be enabled: %s", exc)


class Migration(migrations.Migration):
    dependencies = [("memory_app", "0003_memory_search_gin")]

    operations = [migrations.RunPython(enable_pgvector, migrations.RunPython.noop, elidable=False)]
