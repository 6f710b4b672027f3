"""Every write to sessions, runs, messages and run events goes through here, one module per
sub-domain: people (a user id as stored), sessions, runs (begun, claimed, ended, stopped), versions
(an edit, a regeneration), summaries, live (frames between web processes) and sweep (what a dead
process left behind). The public functions are re-exported: callers write `services.run_finish(...)`."""

from __future__ import annotations

from .live import RUNS_CHANNEL, run_frames_add, runs_notify
from .people import normalize_user_id, user_get_or_create
from .runs import (
    MAX_MESSAGE_CHARS,
    SHOWN_END,
    run_cancel,
    run_claim,
    run_create,
    run_events_add,
    run_finish,
    runs_lock,
)
from .sessions import (
    MAX_SESSION_STATE_BYTES,
    clean_session_state,
    session_create,
    session_delete,
    session_get_or_create_for_run,
    session_rename,
    session_start,
    session_state_set,
    session_title_set_if_empty,
)
from .summaries import session_summary_reset, session_summary_save
from .sweep import STALE_RUN_ERROR, run_frames_prune, runs_sweep_stale
from .versions import run_edit, run_regenerate, run_version_show

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_SESSION_STATE_BYTES",
    "RUNS_CHANNEL",
    "SHOWN_END",
    "STALE_RUN_ERROR",
    "clean_session_state",
    "normalize_user_id",
    "run_cancel",
    "run_claim",
    "run_create",
    "run_edit",
    "run_events_add",
    "run_finish",
    "run_frames_add",
    "run_frames_prune",
    "run_regenerate",
    "run_version_show",
    "runs_lock",
    "runs_notify",
    "runs_sweep_stale",
    "session_create",
    "session_delete",
    "session_get_or_create_for_run",
    "session_rename",
    "session_start",
    "session_state_set",
    "session_summary_reset",
    "session_summary_save",
    "session_title_set_if_empty",
    "user_get_or_create",
]
