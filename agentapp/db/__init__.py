"""The agent's storage on the Django database: `DjangoDb` (`from agentapp.db import DjangoDb`).

adapter.py holds DjangoDb: a run's verbs, the context it loads, the memory verbs; sessions.py its
session and summary verbs; session_verbs.py Agno's session verbs over those; candidates.py what the
database supplies to the ranking; records.py turns ORM rows into the agent's records. Every write
goes through the apps' services and every read that crosses relations through their selectors."""

from __future__ import annotations

from .adapter import DjangoDb, forget_meaning_search_state, meaning_search_available
from .records import DjangoRunHandle

__all__ = ["DjangoDb", "DjangoRunHandle", "forget_meaning_search_state", "meaning_search_available"]
