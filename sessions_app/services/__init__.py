"""Every write to sessions, runs, messages and run events goes through here, one module per
sub-domain: people (a user id as stored), sessions, runs (begun, claimed, ended, stopped), versions
(an edit, a regeneration), summaries, feedback (a reply rated), live (frames between web processes),
leases (runs whose web process died) and sweep (what a dead process left behind, the temporary
chats whose time is up, the deleted chats too late to undo). The public functions are re-exported:
callers write `services.run_finish(...)`."""

from __future__ import annotations

from .feedback import FEEDBACK_COMMENT_CHARS, run_feedback_give
from .forks import session_fork
from .leases import LEASE_SECONDS, run_end_orphaned, runs_orphaned
from .live import RUNS_CHANNEL, run_frames_add, runs_notify
from .people import (
    INSTRUCTION_FIELDS,
    MEMORY_FIELDS,
    normalize_user_id,
    person_chats_move,
    person_settings_save,
    user_get_or_create,
)
from .runs import (
    MAX_MESSAGE_CHARS,
    SHOWN_END,
    run_cancel,
    run_claim,
    run_create,
    run_events_add,
    run_finish,
    run_input_replace,
    run_resume,
    runs_lock,
)
from .sessions import (
    MAX_SESSION_STATE_BYTES,
    clean_session_state,
    session_create,
    session_delete,
    session_get_or_create_for_run,
    session_rename,
    session_restore,
    session_soft_delete,
    session_start,
    session_state_set,
    session_title_set_if_empty,
)
from .summaries import session_summary_reset, session_summary_save
from .sweep import (
    STALE_RUN_ERROR,
    run_frames_prune,
    runs_sweep_stale,
    sessions_purge_deleted,
    sessions_title_without_reply,
    temporary_sessions_delete,
)
from .versions import run_edit, run_regenerate, run_version_show

__all__ = [
    "FEEDBACK_COMMENT_CHARS",
    "INSTRUCTION_FIELDS",
    "LEASE_SECONDS",
    "MAX_MESSAGE_CHARS",
    "MAX_SESSION_STATE_BYTES",
    "MEMORY_FIELDS",
    "RUNS_CHANNEL",
    "SHOWN_END",
    "STALE_RUN_ERROR",
    "clean_session_state",
    "normalize_user_id",
    "person_chats_move",
    "person_settings_save",
    "run_cancel",
    "run_claim",
    "run_create",
    "run_edit",
    "run_end_orphaned",
    "run_events_add",
    "run_feedback_give",
    "run_finish",
    "run_frames_add",
    "run_frames_prune",
    "run_input_replace",
    "run_regenerate",
    "run_resume",
    "run_version_show",
    "runs_lock",
    "runs_notify",
    "runs_orphaned",
    "runs_sweep_stale",
    "session_create",
    "session_delete",
    "session_fork",
    "session_get_or_create_for_run",
    "session_rename",
    "session_restore",
    "session_soft_delete",
    "session_start",
    "session_state_set",
    "session_summary_reset",
    "session_summary_save",
    "session_title_set_if_empty",
    "sessions_purge_deleted",
    "sessions_title_without_reply",
    "temporary_sessions_delete",
    "user_get_or_create",
]
