"""What a failed run tells the person: how long they really waited, what they really received."""

from __future__ import annotations

import re
from typing import Any

from agentapp.llm.types import ModelError


def waited(seconds: float) -> str:
    """A wait as a person says it: "0.9 s", "14 s", "2 min 5 s"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def failure_message(error: ModelError, *, waited_seconds: float, received: str) -> str:
    """The run's error text. A timeout says how long the person waited, retries included (the
    adapter's own text names one attempt's limit); a cut stream says that the text shown is what
    arrived. Other failures keep the adapter's text, which names the reason."""
    if error.kind == "timeout":
        return (
            f"The model timed out: you waited {waited(waited_seconds)} for a reply, retries included. "
            "Regenerate to try again."
        )
    if error.kind == "stream":
        detail = error.message.removeprefix("The model stream ").rstrip(".")
        # "was cut off before it finished" would say it twice: no reason beyond the cut itself.
        why = "" if detail.startswith("was cut off") else f" ({detail})"
        if received:
            return f"The reply was cut off{why}: the text above is what was received."
        return f"The reply was cut off before any text arrived{why}."
    return error.message


def failure_record(error: ModelError, *, waited_seconds: float, received: str) -> dict[str, Any]:
    """What the run's `error` event keeps, the same fields for every failure."""
    return {
        "kind": error.kind,
        "status_code": error.status_code,
        "detail": error.message,
        "waited_ms": round(waited_seconds * 1000),
        "received_chars": len(received),
    }


# What the chat tells a person of a failed run, by how the run's error text begins (the adapters'
# texts, failure_message's and the sweep's): plain words, no model server address, HTTP status or
# exception. The run page, the API and staff keep the full text.
_TRY_AGAIN = "Try again in a moment."
_PERSON_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Could not connect to the model server",), f"The model could not be reached. {_TRY_AGAIN}"),
    (("Model request timed out",), f"The model took too long to answer. {_TRY_AGAIN}"),
    (("Model rate limit reached",), f"The model is busy right now. {_TRY_AGAIN}"),
    (
        ("Model server error", "The model server sent a response that could not be read"),
        f"The model had a problem answering. {_TRY_AGAIN}",
    ),
    (
        ("The model server rejected the API key", "The model server denied", "Model request failed"),
        "The model could not answer this request. If it keeps happening, tell whoever runs this app.",
    ),
    (("The run was interrupted",), "The reply was interrupted before it finished. Send the message again."),
    (("Internal error", "The run could not be stored"), f"Something went wrong on our side. {_TRY_AGAIN}"),
)


def person_error(error: str) -> str:
    """The run's error text as the chat shows it to a person (see _PERSON_WORDS)."""
    if error.startswith("The model timed out:"):  # written for the person already: how long they waited
        return error
    if error.startswith("The reply was cut off"):
        if "the text above is what was received" in error:
            return "The reply was cut off: the text above is what was received."
        return f"The reply was cut off before any text arrived. {_TRY_AGAIN}"
    refused = re.match(
        r"The model server rejected the request \(HTTP \d+\): (?P<reason>.+)", error, re.DOTALL
    )
    if refused:  # the provider's own reason (say, a message too long for the model) is the person's to read
        return f"The model refused the request: {refused['reason']}"
    for beginnings, words in _PERSON_WORDS:
        if error.startswith(beginnings):
            return words
    return f"The reply failed. {_TRY_AGAIN}"
