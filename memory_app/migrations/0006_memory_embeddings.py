"""Embeddings for recall by meaning, and (where pgvector is enabled) their HNSW indexes for the
dimensions of the two default embedders: 384 (all-MiniLM-L6-v2) and 1,536 (text-embedding-3-small).
Another embedder's dimension gets its index from `manage.py memories_embed`."""

import django.contrib.postgres.fields
import django.db.models.deletion
import memory_app.models
from django.conf import settings
from django.db import migrations, models

DEFAULT_DIMENSIONS = (384, 1536)


def _index_sql(dimensions):
    # Must stay identical to memory_app.selectors.meaning_index_sql.
    return (
        f"CREATE INDEX IF NOT EXISTS memory_embedding_hnsw_{dimensions} ON memory_app_memoryembedding "
        f"USING hnsw ((vector::vector({dimensions})) vector_cosine_ops) WHERE dimensions = {dimensions}"
    )


def create_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
        if cursor.fetchone() is None:
            return  # no pgvector: recall uses words and recency
        for dimensions in DEFAULT_DIMENSIONS:
            cursor.execute(_index_sql(dimensions))


def drop_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for dimensions in DEFAULT_DIMENSIONS:
            cursor.execute(f"DROP INDEX IF EXISTS memory_embedding_hnsw_{dimensions}")


class Migration(migrations.Migration):

    dependencies = [
        ('memory_app', '0005_memory_live_text_unique'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='MemoryEmbedding',
            fields=[
                ('memory', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='embedding', serialize=False, to='memory_app.memory')),
                ('model', models.CharField(max_length=200)),
                ('dimensions', models.PositiveIntegerField()),
                ('vector', django.contrib.postgres.fields.ArrayField(base_field=memory_app.models.RealField(), size=None)),
                ('created_at', models.DateTimeField(auto_now=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['user', 'model', 'dimensions'], name='memory_embedding_owner')],
            },
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
