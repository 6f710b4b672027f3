"""The context page: what each model request of a run was sent, section by section, in tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...models import Run, RunEvent
from .. import layout
from .details import event_label


@dataclass
class RequestContext:
    event: RunEvent
    label: str
    sections: list[layout.Section]
    segments: list[layout.Segment]
    total_tokens: int
    reported_input_tokens: int
    messages: list[dict[str, str]] = field(default_factory=list)


def run_contexts(*, run: Run) -> list[RequestContext]:
    contexts = []
    requests = RunEvent.objects.filter(
        run_id=run.pk, kind__in=(RunEvent.Kind.MODEL_REQUEST, RunEvent.Kind.SUMMARY)
    ).order_by("started_at", "id")
    for event in requests:
        request = (event.payload or {}).get("request")
        raw = request.get("messages") if isinstance(request, dict) else None
        if not isinstance(raw, list):
            continue
        messages = [m for m in raw if isinstance(m, dict)]
        recorded = (event.payload or {}).get("layout")
        sections = layout.context_sections(messages, recorded if isinstance(recorded, list) else ())
        for section in sections:
            section.texts = [(role, layout.redact(text)) for role, text in section.texts]
        contexts.append(
            RequestContext(
                event=event,
                label=event_label(event),
                sections=sections,
                segments=layout.stacked([(s.name, s.tokens) for s in sections]),
                total_tokens=sum(s.tokens for s in sections),
                reported_input_tokens=event.input_tokens,
            )
        )
    return contexts
