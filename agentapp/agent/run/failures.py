"""What a failed run tells the person: how long they really waited, what they really received."""

from __future__ import annotations

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
        if received:
            return f"The reply was cut off ({detail}): the text above is what was received."
        return f"The reply was cut off before any text arrived ({detail})."
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
