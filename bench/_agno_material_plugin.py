"""The pytest plugin under which bench/agno_material.py runs Agno's tests (`-p bench._agno_material_plugin`).

It sets Django up on the runner's scratch database and empties that database before each test (Agno's
fixtures give each test a fresh SQLite table); it runs `async def` tests and `pytest_asyncio.fixture`
fixtures on one event loop per test (pytest-asyncio is no dependency of ours: the runner puts a
two-line `pytest_asyncio` beside the material); and it offers the database fixtures that Agno's
conftests build from a SQLAlchemy engine, without the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_loop: asyncio.AbstractEventLoop | None = None
_DJANGO = os.environ.get("AGNO_MATERIAL_DB", "django") != "memory"
# Tables a test's rows never go to, which Django fills once (migrations, content types).
_KEEP = {"django_migrations", "django_content_type", "auth_permission"}


if _DJANGO:  # now, not in pytest_configure: Agno's conftests (loaded before it) import our storages
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._agno_material_settings")
    django.setup()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "asyncio: run on an event loop (pytest-asyncio's marker)")


def empty_database() -> None:
    """Every table of the project emptied, at once."""
    from django.db import connection

    tables = [t for t in connection.introspection.django_table_names(only_existing=True) if t not in _KEEP]
    if tables:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


def material_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_loop)
    return _loop


@pytest.fixture(autouse=True)
def _material_isolation() -> Iterator[None]:
    global _loop
    if _DJANGO:
        empty_database()
    yield
    if _loop is not None and not _loop.is_closed():
        _loop.run_until_complete(_loop.shutdown_asyncgens())
        _loop.close()
    _loop = None
    if _DJANGO:
        from django.db import connections

        connections.close_all()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    material_loop().run_until_complete(pyfuncitem.obj(**kwargs))
    return True


def async_fixture(*args: Any, **kwargs: Any) -> Any:
    """`pytest_asyncio.fixture`: an `async def` fixture (or async generator) run on the test's loop."""

    def wrap(function: Callable[..., Any]) -> Any:
        if inspect.isasyncgenfunction(function):

            @functools.wraps(function)
            def generator(*a: Any, **kw: Any) -> Iterator[Any]:
                agen = function(*a, **kw)
                yield material_loop().run_until_complete(agen.__anext__())
                with contextlib.suppress(StopAsyncIteration):
                    material_loop().run_until_complete(agen.__anext__())

            return pytest.fixture(*args, **kwargs)(generator) if kwargs or args else pytest.fixture(generator)
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            def value(*a: Any, **kw: Any) -> Any:
                return material_loop().run_until_complete(function(*a, **kw))

            return pytest.fixture(*args, **kwargs)(value) if kwargs or args else pytest.fixture(value)
        return pytest.fixture(*args, **kwargs)(function) if kwargs or args else pytest.fixture(function)

    if len(args) == 1 and callable(args[0]) and not kwargs:
        function, args = args[0], ()
        return wrap(function)
    return wrap


# --- the database fixtures of Agno's conftests, without SQLAlchemy (the runner appends an import of
# these to each conftest it exports, so they replace the ones defined there) ----------------------


def _storage() -> Any:
    from bench._agno_material_shims import SqliteDb

    return SqliteDb()


@pytest.fixture
def mock_engine() -> None:
    return None


@pytest.fixture
def mock_async_engine() -> None:
    return None


@pytest.fixture
def postgres_engine() -> None:
    return None


@pytest.fixture
def async_postgres_engine() -> None:
    return None


@pytest.fixture
def async_shared_db() -> Any:
    return _storage()


@pytest.fixture
def async_postgres_db_real() -> Any:
    return _storage()


MATERIAL_FIXTURES = [
    "mock_engine",
    "mock_async_engine",
    "postgres_engine",
    "async_postgres_engine",
    "async_shared_db",
    "async_postgres_db_real",
]
