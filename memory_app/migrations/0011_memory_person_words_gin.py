"""One GIN index over (person, full-text document), with btree_gin: "this person's memories with this
word" is then read from the index, not by scanning the person's rows once per word of the message
(recall's BM25 counts each word's document frequency among the person's memories; at 10,000
memories a person that scan cost about 5 ms a word, bench/recall_scale.py). btree_gin ships with
PostgreSQL (contrib) and is a trusted extension; where it cannot be created, recall works as before,
only slower for people with many memories. Without GIN's pending list (fastupdate off): a memory's
write updates the index at once, and reads never pay for (nor the planner shun the index over) a
list of entries not merged yet."""

from __future__ import annotations

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

INDEX = (
    "CREATE INDEX IF NOT EXISTS memory_person_words_gin ON memory_app_memory "
    "USING gin (user_id, search_document) WITH (fastupdate = off) WHERE deleted_at IS NULL"
)


def add_index(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gin'")
        if cursor.fetchone() is None:
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
                cursor.execute(INDEX)
        except DatabaseError as exc:  # e.g. a role that may not create extensions
            logger.warning("recall's per-person word index could not be made: %s", exc)


def drop_index(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS memory_person_words_gin")


class Migration(migrations.Migration):
    dependencies = [("memory_app", "0010_memoryembedding_stored_vector")]

    operations = [migrations.RunPython(add_index, drop_index, elidable=False)]
