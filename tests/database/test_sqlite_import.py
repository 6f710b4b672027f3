"""`manage.py sqlite_import`: the data of the old SQLite default moves into PostgreSQL, nothing lost."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from agentapp.platform.database import database_url
from memory_app.models import Memory
from sessions_app.models import AgentSession, Run

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]

# Run with DATABASE_URL naming an SQLite file: lays it out as the SQLite default left it (the same
# models as today), holding one person's chat and memory.
OLD_DATABASE = """
import django
django.setup()
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from memory_app.models import Memory, MemoryChange
from sessions_app.models import AgentSession, Message, Run
with connection.schema_editor() as editor:
    for label in ("auth", "contenttypes", "sessions_app", "memory_app", "apikeys"):
        for model in apps.get_app_config(label).get_models():
            editor.create_model(model)
sarah = get_user_model().objects.create_user("sarah", password="pw-123456789")
get_user_model().objects.create_user("demo", password="old-demo-pw")
session = AgentSession.objects.create(session_id="thread-42", user=sarah, title="Trip")
run = Run.objects.create(
    session=session, user=sarah, status="completed", input="I prefer email", content="Noted."
)
Message.objects.create(run=run, session=session, role="user", content="I prefer email", position=0)
memory = Memory.objects.create(
    user=sarah, text="Prefers email", normalized_text="prefers email", topics=["contact"], source_run=run
)
MemoryChange.objects.create(memory=memory, user=sarah, action="create", actor="model", run=run, after={})
"""


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agentapp.settings",
        "DATABASE_URL": database_url,
        "AGENTAPP_VAR_DIR": str(tmp_path / "var"),
    }


def _old_database(tmp_path: Path) -> Path:
    path = tmp_path / "db.sqlite3"
    env = _env(tmp_path, f"sqlite:///{path}")
    subprocess.run([sys.executable, "-c", OLD_DATABASE], env=env, cwd=ROOT, check=True, timeout=120)
    return path


def _import(tmp_path: Path, path: Path) -> subprocess.CompletedProcess:
    """`manage.py sqlite_import PATH` as a person runs it, into the test database."""
    env = _env(tmp_path, database_url(connection))
    command = [sys.executable, str(ROOT / "manage.py"), "sqlite_import", str(path)]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_old_files_chats_memories_and_logins_arrive_in_postgresql(tmp_path, django_user_model):
    old = _old_database(tmp_path)
    django_user_model.objects.create_user("demo", password="new-demo-pw")  # make run's demo login

    done = _import(tmp_path, old)

    assert done.returncode == 0, done.stderr
    assert "Imported" in done.stdout
    sarah = django_user_model.objects.get(username="sarah")
    with sqlite3.connect(tmp_path / "db.sqlite3.imported") as old_file:
        (password,) = old_file.execute("SELECT password FROM auth_user WHERE username = 'sarah'").fetchone()
    assert sarah.password == password  # the same login
    session = AgentSession.objects.get(session_id="thread-42")
    assert session.user == sarah and session.title == "Trip"
    run = session.runs.get()
    assert (run.input, run.content, run.status) == ("I prefer email", "Noted.", "completed")
    assert list(run.messages.values_list("role", "content")) == [("user", "I prefer email")]
    memory = Memory.objects.get(user=sarah)
    assert (memory.text, memory.topics, memory.source_run) == ("Prefers email", ["contact"], run)
    assert memory.changes.get().run == run
    assert django_user_model.objects.filter(username="demo").count() == 1  # matched by username
    assert not old.exists() and (tmp_path / "db.sqlite3.imported").exists()
    # New rows get fresh ids after the imported ones (the sequences were moved on).
    assert Run.objects.create(session=session, user=sarah, input="next").pk > run.pk


def test_it_refuses_to_import_over_existing_chats(tmp_path, alice):
    old = _old_database(tmp_path)
    AgentSession.objects.create(user=alice)

    done = _import(tmp_path, old)

    assert done.returncode == 1 and "already holds sessions" in done.stderr
    assert old.exists() and not get_user_model().objects.filter(username="sarah").exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("sqlite_import", str(tmp_path / "nothing.sqlite3"), verbosity=0)
