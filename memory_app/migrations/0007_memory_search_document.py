"""The full-text document of each memory, stored (a generated column) rather than recomputed:
recall ranks hundreds of matches per turn with ts_rank_cd, which otherwise parses each memory's
text again. Its GIN index replaces the expression index of 0003."""

from __future__ import annotations

from django.db import migrations

# Must stay what memory_app.selectors.SEARCH_DOCUMENT_SQL names.
ADD = (
    "ALTER TABLE memory_app_memory ADD COLUMN IF NOT EXISTS search_document tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english'::regconfig, COALESCE(\"text\", '') || ' ' || COALESCE(\"topics\"::text, ''))) STORED"
)
INDEX = "CREATE INDEX IF NOT EXISTS memory_search_document_gin ON memory_app_memory USING gin (search_document)"
OLD_INDEX = (
    "CREATE INDEX IF NOT EXISTS memory_search_gin ON memory_app_memory USING gin "
    "(to_tsvector('english'::regconfig, COALESCE(\"text\", '') || ' ' || COALESCE(\"topics\"::text, '')))"
)


class Migration(migrations.Migration):
    dependencies = [("memory_app", "0006_memory_embeddings")]

    operations = [
        migrations.RunSQL(ADD, "ALTER TABLE memory_app_memory DROP COLUMN IF EXISTS search_document"),
        migrations.RunSQL(INDEX, "DROP INDEX IF EXISTS memory_search_document_gin"),
        migrations.RunSQL("DROP INDEX IF EXISTS memory_search_gin", OLD_INDEX),
    ]
