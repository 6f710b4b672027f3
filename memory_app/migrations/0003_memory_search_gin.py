"""The full-text index behind memory search."""

from __future__ import annotations

from django.db import migrations

# Must stay identical to memory_app.selectors.SEARCH_DOCUMENT_SQL so the planner can use the index.
CREATE = (
    "CREATE INDEX IF NOT EXISTS memory_search_gin ON memory_app_memory USING gin "
    "(to_tsvector('english'::regconfig, COALESCE(\"text\", '') || ' ' || COALESCE(\"topics\"::text, '')))"
)
DROP = "DROP INDEX IF EXISTS memory_search_gin"


class Migration(migrations.Migration):
    dependencies = [("memory_app", "0002_extraction_and_reverts")]

    operations = [migrations.RunSQL(CREATE, DROP)]
