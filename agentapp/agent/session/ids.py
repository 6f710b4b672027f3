"""What a session id may be: what an address (a URL path segment) carries as it is, whatever the storage."""

from __future__ import annotations

import re

from ..errors import InvalidInput

MAX_SESSION_ID = 128
# Letters and digits first, then also . _ : @ + - : no slash, space, ?, #, %, or control characters.
SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$"
_SESSION_ID = re.compile(SESSION_ID_PATTERN)


MAX_RUN_ID = 64
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,63}$")


def check_run_id(run_id: str) -> str:
    """A caller-chosen run id (`run(run_id=...)`): the same characters as a session id, at most 64."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidInput(
            f"run_id must be 1 to {MAX_RUN_ID} characters: ASCII letters and digits, then also . _ : @ + -"
        )
    return run_id


def taken_run_id(run_id: str) -> str:
    return f"run_id {run_id!r} is already used by another run; choose a new one"


def check_session_id(session_id: str) -> str:
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise InvalidInput(
            f"session_id must be 1 to {MAX_SESSION_ID} characters: ASCII letters and digits, "
            "then also . _ : @ + -"
        )
    return session_id
