"""What every router of the REST API shares: the error shape, input types, pagination."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator, StringConstraints

from agentapp.agent.ids import SESSION_ID_PATTERN


class ErrorOut(Schema):
    """The one error shape, for every 4xx."""

    message: str
    detail: Any = None


def _clean(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded: refuse them as bad input.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


_NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=_NO_NUL), AfterValidator(_clean)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_NO_NUL), AfterValidator(_clean)]
SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN)]
UserId = Annotated[
    str, StringConstraints(min_length=1, max_length=150, pattern=_NO_NUL), AfterValidator(_clean)
]
Search = Annotated[str, StringConstraints(max_length=200, pattern=_NO_NUL), AfterValidator(_clean)]

# Statuses any route can answer besides its own (400: a body that is not JSON; 403: CSRF for a browser;
# 413: a body over DATA_UPLOAD_MAX_MEMORY_SIZE).
AUTH_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut}
OBJECT_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 404: ErrorOut}


class Page(LimitOffsetPagination):
    """limit/offset with the total count; bounded so no input reaches the database as an overflow."""

    class Input(Schema):
        limit: int = Field(20, ge=1, le=100)
        offset: int = Field(0, ge=0, le=1_000_000)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=100, **kwargs)
