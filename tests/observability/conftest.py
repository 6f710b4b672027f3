from __future__ import annotations

from tests.failures.db_outage import outage  # noqa: F401

from .otlp_receiver import otlp_receiver, tracing  # noqa: F401 - the fixtures, for this folder
from .workers import broker  # noqa: F401
