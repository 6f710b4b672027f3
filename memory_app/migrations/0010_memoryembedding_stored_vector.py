"""Each embedding also as a pgvector `vector`, computed by the database from the stored real[]: an
exact scan of a person's vectors then reads them as they are instead of casting every row
(bench/recall_scale.py: about 4x faster at 10,000 memories). Only where pgvector is enabled; a
server without it migrates all the same, and recall casts as before where the column is missing."""

from __future__ import annotations

from django.db import migrations

ADD = (
    "ALTER TABLE memory_app_memoryembedding ADD COLUMN IF NOT EXISTS stored_vector vector "
    "GENERATED ALWAYS AS (vector::vector) STORED"
)


def add_stored_vector(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
        if cursor.fetchone() is not None:
            cursor.execute(ADD)


def drop_stored_vector(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE memory_app_memoryembedding DROP COLUMN IF EXISTS stored_vector")


class Migration(migrations.Migration):
    dependencies = [("memory_app", "0009_memorychange_merge")]

    operations = [migrations.RunPython(add_stored_vector, drop_stored_vector, elidable=False)]
