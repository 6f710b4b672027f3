"""`manage.py check` says in one line what is wrong with the database setup, and how to fix it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from agentapp import checks
from agentapp.platform.database import pgvector_state

pytestmark = [pytest.mark.django_db, pytest.mark.server_paths]


def _check_output() -> str:
    out, err = StringIO(), StringIO()
    call_command("check", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def _server_has_pgvector() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        return cursor.fetchone() is not None


def test_an_old_sqlite_file_gets_one_line_naming_the_import_command(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    assert "agentapp.W001" not in _check_output()

    (tmp_path / "db.sqlite3").write_bytes(b"SQLite format 3\x00")
    lines = [line for line in _check_output().splitlines() if "agentapp.W001" in line]

    assert len(lines) == 1
    assert "manage.py sqlite_import" in lines[0] and str(tmp_path / "db.sqlite3") in lines[0]


def test_an_sqlite_database_url_is_refused_with_what_to_do_instead(settings, monkeypatch):
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")

    [error] = checks.engine_is_postgresql()

    assert error.id == "agentapp.E001" and error.is_serious()
    assert "PostgreSQL only" in error.msg and "unset DATABASE_URL" in error.msg


def test_pgvector_enabled_by_the_migrations_where_the_server_has_it():
    expected = "enabled" if _server_has_pgvector() else "missing"

    assert pgvector_state() == expected
    assert ("agentapp.W002" in _check_output()) == (expected == "missing")


def test_pgvector_installed_but_not_created_here_says_to_migrate():
    if not _server_has_pgvector():
        pytest.skip("this server has no pgvector to drop (the missing case is tested below)")
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION vector CASCADE")  # rolled back with the test's transaction

    [warning] = checks.pgvector_installed()

    assert warning.id == "agentapp.W002" and "not enabled in this database" in warning.msg
    assert "manage.py migrate" in warning.msg


def test_a_server_without_pgvector_is_named_with_the_package_to_install():
    if _server_has_pgvector():
        pytest.skip("this server has pgvector; CI's pass on PostgreSQL 15 (which has none) runs this")
    major = connection.pg_version // 10000

    [warning] = checks.pgvector_installed()

    assert warning.id == "agentapp.W002"
    assert f"not installed on this PostgreSQL {major} server" in warning.msg
    assert f"apt install postgresql-{major}-pgvector" in warning.msg
    assert "\n" not in warning.msg


def test_before_the_migrations_ran_a_server_with_pgvector_raises_no_warning():
    """A fresh database: migrate's own check must not tell people to run the migrate it is running."""
    if not _server_has_pgvector():
        pytest.skip("this server has no pgvector (the missing case is tested above)")
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION vector CASCADE")  # rolled back with the test's transaction
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = %s AND name = %s", list(checks.PGVECTOR_MIGRATION)
        )

    assert checks.pgvector_installed() == []
