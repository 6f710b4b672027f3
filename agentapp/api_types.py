"""What every router of the REST API shares: the error shape, input types, pagination."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from agentapp.agent import errors as runtime
from agentapp.agent.session.ids import SESSION_ID_PATTERN


class InputSchema(Schema):
    """A request body, which must be a JSON object.

    ninja's Schema reads the attributes of whatever it is given (so that it can read a model), and a
    body "abc" had a `title`: str.title. A body is read as the object it is, or refused; and
    strictly, so that a value of another type (`"stream": 0`) is refused rather than converted. A
    field the route does not know is refused too (422), never dropped: a misspelt field must not
    pass for a request that did what it asked.
    """

    model_config = ConfigDict(strict=True, extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not isinstance(values, dict):
            raise ValueError("the body must be a JSON object")
        return handler(values)


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


def _char_class(chars: str) -> str:
    """`chars` as the inside of a regex character class, in \\uXXXX escapes every dialect reads."""
    return "".join(f"\\u{ord(c):04x}" for c in chars)


# What str.strip() and str.split() take for blank: the server's own test of "empty".
_BLANK = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # none lies above U+3000
_NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=_NO_NUL), AfterValidator(_clean)]
# Text with something in it besides blanks, so the schema refuses what the server would.
NonBlankText = Annotated[
    str,
    StringConstraints(pattern=rf"^[^\x00]*[^\x00{_char_class(_BLANK)}][^\x00]*$"),
    AfterValidator(_clean),
]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_NO_NUL), AfterValidator(_clean)]
SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN)]


def _compatibility_form(value: Any) -> Any:
    # Read the way usernames are stored (NFKC): a fullwidth "\uff41lice" is alice, not a second one.
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


# The API's user ids are ASCII, spelled so that every reader of the schema (an ECMA regex, Python's,
# Rust's) agrees on what passes; the Python API also takes the other letters usernames may hold.
# Letters, digits and . @ + - _, not only dots ("." and ".." read as paths wherever an id goes in a URL).
USER_ID_PATTERN = r"^[A-Za-z0-9_.@+-]*[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$"
UserId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=150, pattern=USER_ID_PATTERN),
    BeforeValidator(_compatibility_form),
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


# What the runtime raises itself (a storage other than DjangoDb, or a check before the storage), as
# the HTTP status both APIs (/api/ and /os/) answer it with.
RUNTIME_STATUS: dict[type[runtime.AgentError], int] = {
    runtime.InvalidInput: 422,
    runtime.SessionOwnedByAnotherUser: 404,
    runtime.RunNotFound: 404,
    runtime.MemoryNotFound: 404,
    runtime.StorageUnavailable: 503,
}


def runtime_status(exc: runtime.AgentError) -> int:
    return next((code for cls, code in RUNTIME_STATUS.items() if isinstance(exc, cls)), 400)
