"""Live runs: driven by the web process, followed by any number of streams in any process."""

from __future__ import annotations

from .driver import request_connection_give_back, run_drive, runs_hand_off
from .follow import run_follow
from .hub import ENDINGS, Frame, hub

__all__ = [
    "ENDINGS",
    "Frame",
    "hub",
    "request_connection_give_back",
    "run_drive",
    "run_follow",
    "runs_hand_off",
]
