"""Copy the data of an old SQLite database (the former embedded default) into PostgreSQL.

Django's own dumpdata and loaddata do the copy: the SQLite file is opened as a second database
for the duration of the command. Users are matched by username, so the demo logins `make run`
creates do not collide; everything else keeps its ids, which is why the target must not hold chats,
runs, memories or API keys yet.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from apikeys.models import ApiKey
from memory_app.models import Memory
from sessions_app.models import AgentSession, Run

ALIAS = "sqlite_import"
# Rebuilt by migrate in the new database, or not worth keeping (sign-in sessions, admin log).
SKIPPED = ["contenttypes", "auth.permission", "admin.logentry", "sessions.session"]


def _absent(connection: BaseDatabaseWrapper) -> list[str]:
    """The models whose tables the old file never had (apps added since SQLite was dropped): nothing
    of theirs to copy."""
    tables = set(connection.introspection.table_names())
    return [
        f"{model._meta.app_label}.{model.__name__}"
        for model in apps.get_models()
        if model._meta.managed and model._meta.db_table not in tables
    ]


class Command(BaseCommand):
    help = "Copy the data of an old SQLite database file (var/db.sqlite3) into the PostgreSQL database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="the SQLite file (default: var/db.sqlite3)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"] or Path(settings.VAR_DIR) / "db.sqlite3").resolve()
        if not path.is_file():
            raise CommandError(f"{path} does not exist")
        holding = [
            str(m._meta.verbose_name_plural)
            for m in (AgentSession, Run, Memory, ApiKey)
            if m.objects.exists()
        ]
        if holding:
            raise CommandError(
                f"the PostgreSQL database already holds {', '.join(holding)}: import into an empty one "
                "(its ids would collide), e.g. a fresh var/ or another DATABASE_URL"
            )
        with tempfile.TemporaryDirectory() as folder:
            dump = Path(folder) / "data.json"
            self._dump(path, dump)
            call_command("loaddata", str(dump), verbosity=options["verbosity"])
        moved = path.with_name(path.name + ".imported")
        path.rename(moved)
        self.stdout.write(self.style.SUCCESS(f"Imported {path}; the file is now {moved}."))

    def _dump(self, path: Path, dump: Path) -> None:
        configured = connections.configure_settings(
            {**connections.settings, ALIAS: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}}
        )
        connections.settings[ALIAS] = configured[ALIAS]
        try:
            call_command(
                "dumpdata",
                database=ALIAS,
                natural_foreign=True,
                natural_primary=True,
                exclude=[*SKIPPED, *_absent(connections[ALIAS])],
                output=str(dump),
                verbosity=0,
            )
        except DatabaseError as exc:
            raise CommandError(
                f"{path} could not be read as this version's tables ({exc}): export it with the release "
                "that wrote it"
            ) from exc
        finally:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.settings[ALIAS]
