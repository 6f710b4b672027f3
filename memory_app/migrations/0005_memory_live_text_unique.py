"""One live memory per person and text, as a constraint. Copies already stored (from before it,
when two creates could race) are soft-deleted first, the oldest kept, each with its change."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def delete_live_duplicates(apps, schema_editor):
    Memory = apps.get_model("memory_app", "Memory")
    MemoryChange = apps.get_model("memory_app", "MemoryChange")
    kept: set[tuple[int, str]] = set()
    now = timezone.now()
    live = Memory.objects.filter(deleted_at__isnull=True).order_by("user_id", "normalized_text", "pk")
    for memory in live.iterator():
        key = (memory.user_id, memory.normalized_text)
        if key not in kept:
            kept.add(key)
            continue
        snapshot = {"text": memory.text, "topics": list(memory.topics)}
        Memory.objects.filter(pk=memory.pk).update(deleted_at=now, updated_at=now)
        MemoryChange.objects.create(
            memory_id=memory.pk, user_id=memory.user_id, action="delete", actor="operator", before=snapshot
        )


class Migration(migrations.Migration):
    dependencies = [
        ("memory_app", "0004_pgvector_extension"),
        ("sessions_app", "0002_run_acting_user"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(delete_live_duplicates, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="memory", name="memory_user_normalized"),
        migrations.AddConstraint(
            model_name="memory",
            constraint=models.UniqueConstraint(
                models.F("user"),
                django.db.models.functions.text.MD5("normalized_text"),
                condition=models.Q(("deleted_at__isnull", True)),
                name="memory_live_text_unique",
            ),
        ),
    ]
