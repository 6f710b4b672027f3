"""The connection pool tells a busy database from an absent one: a request waits its turn while every
connection is lent out and working (a burst larger than the pool), and is refused after the pool's
`timeout` when connections fail (an outage), as before."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection
from psycopg_pool import PoolTimeout

from agentapp.platform.database import libpq_params
from agentapp.platform.pg.pool import ResilientPool

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_connection() -> Iterator[ResilientPool]:
    pool = ResilientPool(
        kwargs=libpq_params(connection), min_size=1, max_size=1, timeout=0.2, busy_timeout=5, open=False
    )
    pool.open(wait=True)
    yield pool
    pool.close()


def _held_for(pool: ResilientPool, seconds: float) -> threading.Thread:
    taken = threading.Event()

    def hold() -> None:
        conn = pool.getconn()
        taken.set()
        time.sleep(seconds)
        pool.putconn(conn)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)
    return holder


def test_a_request_waits_past_the_timeout_while_the_only_connection_is_busy(one_connection):
    holder = _held_for(one_connection, 1.0)  # five times the pool's timeout
    started = time.monotonic()

    conn = one_connection.getconn()

    waited = time.monotonic() - started
    assert conn.execute("SELECT 1").fetchone() == (1,)
    one_connection.putconn(conn)
    holder.join()
    assert 0.5 < waited < 4, waited


def test_a_request_still_gives_up_after_the_busy_timeout(one_connection):
    one_connection.busy_timeout = 0.5
    holder = _held_for(one_connection, 2.5)
    started = time.monotonic()

    with pytest.raises(PoolTimeout):
        one_connection.getconn()

    assert time.monotonic() - started < 2.0
    holder.join()


def test_an_explicit_timeout_is_the_callers_own():
    pool = ResilientPool(kwargs=libpq_params(connection), min_size=1, max_size=1, timeout=5, open=False)
    pool.open(wait=True)
    try:
        holder = _held_for(pool, 1.0)
        with pytest.raises(PoolTimeout):
            pool.getconn(timeout=0.2)
        holder.join()
    finally:
        pool.close()


def test_a_database_that_does_not_answer_is_refused_after_the_timeout_not_waited_for():
    with socket.socket() as probe:  # a port no server listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    params = {**libpq_params(connection), "host": "127.0.0.1", "port": port, "connect_timeout": 1}
    pool = ResilientPool(kwargs=params, min_size=1, max_size=1, timeout=0.5, busy_timeout=30, open=False)
    pool.open(wait=False)
    started = time.monotonic()
    try:
        with pytest.raises(PoolTimeout):
            pool.getconn()
    finally:
        pool.close()
    assert time.monotonic() - started < 3, "an outage must not be waited for as if the pool were busy"
