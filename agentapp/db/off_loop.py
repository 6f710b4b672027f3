"""Sync storage calls from async code, as Agno's sync storages allow them (an `async def` script that
calls `agent.run()` or `db.get_session()`): Django refuses the ORM on a thread whose event loop is
running, so such a call is made on a thread of its own and waited for, as Agno's would block."""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction
from django.db import connections

T = TypeVar("T")

_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="djangodb-from-async")


def _on_a_running_loop() -> bool:
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):  # the caller asked Django not to mind
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _closing(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return method(*args, **kwargs)
    finally:
        connections.close_all()  # back to the pool: the thread may wait long for its next call


def off_the_loop(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        if not _on_a_running_loop():
            return method(*args, **kwargs)
        return _THREAD.submit(_closing, method, args, kwargs).result()

    return call


def sync_verbs_off_the_loop(cls: type[T]) -> type[T]:
    """Each public sync method of `cls` (its own and inherited) made callable from async code."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attribute = inspect.getattr_static(cls, name)
        if inspect.isfunction(attribute) and not iscoroutinefunction(attribute):
            setattr(cls, name, off_the_loop(attribute))
    return cls
