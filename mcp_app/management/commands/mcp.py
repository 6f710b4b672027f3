"""manage.py mcp --user NAME: the MCP server on stdio, for a local client (Claude Desktop, Claude Code).

Whoever can run manage.py can read the database anyway, so the person is named rather than keyed;
stdout carries the protocol alone (logs go to stderr).
"""

from __future__ import annotations

from typing import Any

import anyio
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mcp_app.server import build_server


class Command(BaseCommand):
    help = "Serve the person's memories to a local MCP client over stdio (mem0's memory tools)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="The username whose memories the client reaches.")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["user"].strip()
        person = get_user_model().objects.filter(username=username, is_active=True).first()
        if person is None:
            raise CommandError(f"no active user named {username!r} (create the account first)")
        person_pk = person.pk
        server = build_server(lambda ctx: person_pk)
        anyio.run(server.run_stdio_async)
