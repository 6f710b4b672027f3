"""Agno's `pprint_run_response` (`agno.utils.pprint`): a run's reply printed for a person."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from .events import RunContent, RunOutput
from .run.output import _print_reply


def pprint_run_response(
    run_response: RunOutput | Iterable[Any],
    markdown: bool = False,
    show_time: bool = False,
    file: TextIO | None = None,
) -> None:
    """Print a RunOutput's reply (rendered with `rich` when `markdown` and it is installed), or the
    content of a stream's events as they come. `show_time` is accepted; no time is shown."""
    out = file if file is not None else sys.stdout
    if isinstance(run_response, RunOutput):
        _print_reply(run_response, out, markdown=markdown)
        return
    for item in run_response:
        if isinstance(item, RunContent):
            out.write(item.content)
            out.flush()
    out.write("\n")


__all__ = ["pprint_run_response"]
