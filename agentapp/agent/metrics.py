"""A run's measurements, in Agno's shapes: tokens and time for the run (`RunMetrics`, with Agno's
per-model `details`), for one model (`ModelMetrics`) and for one tool call (`ToolCallMetrics`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class ModelMetrics:
    """One model's share of a run (Agno's `RunMetrics.details` entries), by `id` and `provider`."""

    id: str = ""
    provider: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Agno's: only what was measured."""
        return {name: value for name, value in vars(self).items() if value}


def model_details(
    *, model_id: str, provider: str, input_tokens: int, output_tokens: int, total_tokens: int
) -> dict[str, list[ModelMetrics]]:
    """Agno's `RunMetrics.details` of a run that asked one model: under Agno's key for the Agent's
    model, "model"."""
    tokens = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": total_tokens}
    return {"model": [ModelMetrics(id=model_id, provider=provider, **tokens)]}


@dataclass(frozen=True)
class RunMetrics:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0
    ttft_ms: int | None = None
    model_requests: int = 0
    tool_calls: int = 0
    # Agno's per-model breakdown: {"model": [ModelMetrics(id=, provider=, tokens...)]}; the work after
    # the run (memory, summary) is not counted in a run's metrics here.
    details: dict[str, list[ModelMetrics]] | None = None

    @property
    def duration(self) -> float:
        """Agno's name: the run's duration in seconds."""
        return self.duration_ms / 1000

    @property
    def time_to_first_token(self) -> float | None:
        """Agno's name: seconds until the model's first token."""
        return None if self.ttft_ms is None else self.ttft_ms / 1000

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, the details as Agno's dicts."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.details is not None:
            data["details"] = {kind: [m.to_dict() for m in models] for kind, models in self.details.items()}
        return data


@dataclass(frozen=True)
class ToolCallMetrics:
    """When a tool call ran (Agno's): epoch seconds, and its duration in seconds."""

    start_time: float | None = None
    end_time: float | None = None
    duration: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if value is not None}


__all__ = ["ModelMetrics", "RunMetrics", "ToolCallMetrics", "model_details"]
