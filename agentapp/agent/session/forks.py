"""`Agent.fork_session` (Agno's): a session branched into a new one, to take the conversation another
way without touching the first."""

from __future__ import annotations

import uuid

from ..storage import AgentDb
from ..twins import async_twin


class SessionForks:
    """A part of `Agent`."""

    db: AgentDb
    session_id: str | None
    user_id: str | None

    def fork_session(self, *, source_session_id: str | None = None, user_id: str | None = None) -> str:
        """A new session holding a copy of `source_session_id`'s settled runs (new run ids), with
        their messages, its state, name and summary; the source is untouched. Defaults to the Agent's
        session and user; the source must be that person's (another's is refused). Returns the new
        session's id. ValueError when the source has no run to copy."""
        source = source_session_id or self.session_id
        if not source:
            raise ValueError("source_session_id is required to fork a session.")
        forked = f"ses_{uuid.uuid4().hex}"
        self.db.session_fork(session_id=source, user_id=user_id or self.user_id, new_session_id=forked)
        return forked

    afork_session = async_twin(fork_session)
