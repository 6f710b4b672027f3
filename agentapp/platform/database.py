"""What the rest of the project asks of the database server: where it is, and whether it has pgvector."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

PgvectorState = Literal["enabled", "available", "missing"]
LIBPQ_KEYS = ("host", "port", "user", "password", "dbname")


def libpq_params(connection: BaseDatabaseWrapper, *, dbname: str | None = None) -> dict[str, Any]:
    """host, port, user, password and dbname of `connection`, for a connection of one's own
    (an operator's session, a benchmark); the embedded server is started first if need be."""
    params = connection.get_connection_params()
    found = {key: params[key] for key in LIBPQ_KEYS if params.get(key)}
    if dbname is not None:
        found["dbname"] = dbname
    return found


def database_url(connection: BaseDatabaseWrapper) -> str:
    """A DATABASE_URL for another process (a worker a test starts) that reaches the same database."""
    params = libpq_params(connection)
    auth = quote(params.get("user", ""), safe="")
    if params.get("password"):
        auth += ":" + quote(str(params["password"]), safe="")
    host = quote(str(params.get("host", "")), safe="")  # a socket directory is percent-encoded
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgres://{auth}@{host}{port}/{quote(params['dbname'], safe='')}"


def pgvector_state(using: str = "default") -> PgvectorState:
    """Whether pgvector is "enabled" (created in this database), "available" (installed on the
    server, not created here) or "missing" (not installed on the server)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector'), "
            "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')"
        )
        enabled, available = cursor.fetchone()
    if enabled:
        return "enabled"
    return "available" if available else "missing"


def server_description(using: str = "default") -> str:
    """Which server, for benchmark output: "PostgreSQL 18.6, embedded, Unix socket", "PostgreSQL 15.19,
    127.0.0.1:5432 (TCP)"."""
    connection = connections[using]
    params = libpq_params(connection)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    host = str(params.get("host", ""))
    embedded = connection.settings_dict["ENGINE"] == "agentapp.platform.embedded_pg"
    where = "Unix socket" if host.startswith("/") else f"{host}:{params.get('port', 5432)} (TCP)"
    return f"PostgreSQL {version.split()[0]}, {'embedded, ' if embedded else ''}{where}"


def server_major_version(using: str = "default") -> int:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000")
        (major,) = cursor.fetchone()
    return int(major)


def connection_give_back() -> None:
    """Return this thread's connection to the pool, so that a stream waiting (on the model) holds none.

    Django gives a request's connection back only when the response ends: a streamed reply would
    hold one per stream, and a few dozen streams would exhaust the pool. Without a pool (DB_POOL=0)
    a reconnect costs more than holding on, and inside a transaction it must stay.
    """
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()
