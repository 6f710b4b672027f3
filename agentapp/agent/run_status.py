"""A run's status with Agno's names and values (`RunStatus.completed`, "COMPLETED").

The database and the REST API keep their lowercase words ("completed"); a member equals its word in
either case, so `output.status == RunStatus.completed` and `output.status == "completed"` both hold.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    pending = "PENDING"
    running = "RUNNING"
    completed = "COMPLETED"
    paused = "PAUSED"
    cancelled = "CANCELLED"
    error = "ERROR"

    @classmethod
    def _missing_(cls, value: object) -> RunStatus | None:
        if isinstance(value, str):  # the storage's lowercase word
            return cls.__members__.get(value.lower())
        return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.lower(self) == str.lower(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.stored)  # a set or dict of the storage's words finds the member

    def __str__(self) -> str:
        return self.stored

    def __format__(self, spec: str) -> str:
        return format(self.stored, spec)

    @property
    def stored(self) -> str:
        """The word the database and the REST API use ("completed")."""
        return self.name


__all__ = ["RunStatus"]
