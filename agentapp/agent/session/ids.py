"""What a session id may be: what an address (a URL path segment) carries as it is, whatever the storage."""

from __future__ import annotations

import re

from ..errors import InvalidInput

MAX_SESSION_ID = 128
# Letters and digits first, then also . _ : @ + - : no slash, space, ?, #, %, or control characters.
SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$"
_SESSION_ID = re.compile(SESSION_ID_PATTERN)


def check_session_id(session_id: str) -> str:
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise InvalidInput(
            f"session_id must be 1 to {MAX_SESSION_ID} characters: ASCII letters and digits, "
            "then also . _ : @ + -"
        )
    return session_id
