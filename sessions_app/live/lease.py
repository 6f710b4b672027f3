"""The leases this web process holds on the runs it drives: one session-level advisory lock a run,
all on a connection of the process's own, so that when the process dies its runs are known to be
abandoned at once (services/leases.py says what is done with them). The connection is looked at
every few seconds while runs are held (after a database restart the leases are taken again) and
closed once none is."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from asgiref.sync import sync_to_async
from django.db import connection

from agentapp.platform.database import libpq_params

from ..models import LEASE_KEY

logger = logging.getLogger(__name__)

KEEP_SECONDS = 3.0  # how often the connection holding the leases is looked at while it holds some


class Leases:
    def __init__(self) -> None:
        self.held: set[str] = set()
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._lock = asyncio.Lock()
        self._keeper: asyncio.Task[None] | None = None

    async def take(self, run_id: str) -> None:
        self.held.add(run_id)
        await self._execute("SELECT pg_advisory_lock(%s, hashtext(%s))", run_id)
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._keep())

    async def give(self, run_id: str) -> None:
        self.held.discard(run_id)
        await self._execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", run_id)

    async def close(self) -> None:
        """Let every lease go at once (a graceful stop): the runs are the other processes' to end."""
        self.held.clear()
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None

    async def _execute(self, statement: str, run_id: str) -> None:
        async with self._lock:
            try:
                conn = await self._connection()
                await conn.execute(statement, [LEASE_KEY, run_id])
            except Exception as error:  # the database away: taken again when it is back
                logger.warning("run leases: %s", error)
                await self._drop()

    async def _connection(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            params = await sync_to_async(libpq_params, thread_sensitive=False)(connection)
            self._conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
            for run_id in list(self.held):
                await self._conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [LEASE_KEY, run_id])
        return self._conn

    async def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already gone
                await self._conn.close()
            self._conn = None

    async def _keep(self) -> None:
        try:
            while self.held:
                await asyncio.sleep(KEEP_SECONDS)
                async with self._lock:
                    try:
                        await (await self._connection()).execute("SELECT 1")
                    except Exception as error:
                        logger.warning("run leases: %s; taken again at the next look", error)
                        await self._drop()
        finally:  # no run left, or the process's loop ends: the connection is given back
            task = asyncio.current_task()
            async with self._lock:
                if not self.held or task is None or task.cancelling():
                    await self._drop()
