"""Reads behind the run pages, one module per page: the run page (and one event of it), the context
page, the session timeline; details.py lays out one event for all of them.

Each function does a fixed number of bounded queries and returns plain view data
whose text is already redacted, so templates only lay it out.
"""

from __future__ import annotations

from .context_page import RequestContext, run_contexts
from .run_page import Row, RunTimeline, run_event_get, run_timeline
from .session_page import SessionRun, SessionTimeline, session_timeline

__all__ = [
    "RequestContext",
    "Row",
    "RunTimeline",
    "SessionRun",
    "SessionTimeline",
    "run_contexts",
    "run_event_get",
    "run_timeline",
    "session_timeline",
]
