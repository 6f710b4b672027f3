from __future__ import annotations

from .db_outage import outage  # noqa: F401 - the fixture, for the tests of this folder
