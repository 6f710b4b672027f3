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
