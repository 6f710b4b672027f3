"""Agno's `agno.exceptions` names that scripts raise from hooks: `InputCheckError`, `OutputCheckError`,
`CheckTrigger` (defined in `errors`)."""

from __future__ import annotations

from .errors import CheckTrigger, InputCheckError, OutputCheckError

__all__ = ["CheckTrigger", "InputCheckError", "OutputCheckError"]
