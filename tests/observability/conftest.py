from __future__ import annotations

from .otlp_receiver import otlp_receiver, tracing  # noqa: F401 - the fixtures, for this folder
from .workers import broker  # noqa: F401
