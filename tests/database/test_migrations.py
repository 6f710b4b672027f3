"""The schema: every migration applies on this server, and the models need no new one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db, pytest.mark.server_paths]


def test_every_migration_is_applied_on_this_server():
    call_command("migrate", check=True, stdout=StringIO())  # exits non-zero when one is unapplied


def test_the_models_and_their_migrations_agree():
    call_command("makemigrations", check=True, dry_run=True, stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_the_unique_memory_migration_keeps_the_oldest_of_copies_stored_before_it(django_user_model):
    """Copies two racing creates stored before the constraint are soft-deleted, each with its change."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("memory_app", "0004_pgvector_extension")],
        [("memory_app", "0005_memory_live_text_unique")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="sarah")
    Memory = old.get_model("memory_app", "Memory")
    first = Memory.objects.create(memory_id="mem_a", user=user, text="Likes tea", normalized_text="likes tea")
    Memory.objects.create(memory_id="mem_b", user=user, text="likes tea", normalized_text="likes tea")
    Memory.objects.create(memory_id="mem_c", user=user, text="Likes coffee", normalized_text="likes coffee")

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    Memory = new.get_model("memory_app", "Memory")
    live = sorted(Memory.objects.filter(deleted_at__isnull=True).values_list("memory_id", flat=True))
    deletion = new.get_model("memory_app", "MemoryChange").objects.get()

    assert live == ["mem_a", "mem_c"] and first.pk != deletion.memory_id
    assert deletion.action == "delete" and deletion.before == {"text": "likes tea", "topics": []}
    call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_the_versions_migration_makes_each_stored_run_follow_the_one_before_it_in_its_session():
    """Threads stored before versions existed were lines: they stay lines, shown as they were."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("sessions_app", "0004_run_frames")], [("sessions_app", "0005_run_versions")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="sarah")
    Session, Run = old.get_model("sessions_app", "AgentSession"), old.get_model("sessions_app", "Run")
    one, two = (Session.objects.create(session_id=name, user=user) for name in ("one", "two"))
    runs = [
        Run.objects.create(session=s, user=user, input=f"{s.session_id} {n}")
        for n in range(3)
        for s in (one, two)
    ]

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    Run = executor.loader.project_state(after).apps.get_model("sessions_app", "Run")
    parents = {r.input: r.parent_id for r in Run.objects.all()}
    by_input = {r.input: r.pk for r in runs}
    assert parents == {
        "one 0": None,
        "one 1": by_input["one 0"],
        "one 2": by_input["one 1"],
        "two 0": None,
        "two 1": by_input["two 0"],
        "two 2": by_input["two 1"],
    }
    call_command("migrate", verbosity=0)
    from sessions_app import selectors

    assert selectors.shown_path_pks(session_pk=one.pk) == [
        by_input["one 2"],
        by_input["one 1"],
        by_input["one 0"],
    ]
