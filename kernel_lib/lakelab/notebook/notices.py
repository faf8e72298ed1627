"""Lines the library leaves for the notebook, shown at the top of the next cell run.

Something can happen to a kernel between cells (a workspace stop disconnecting it from
Ray); a line printed then goes to a finished cell, which the notebook no longer shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_sources: list[Callable[[], str | None]] = []


def show_at_next_cell(take: Callable[[], str | None]) -> None:
    """Print what `take()` returns (when not None) as each cell starts; a no-op outside IPython."""
    if take in _sources:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    if not _sources:
        ip.events.register("pre_run_cell", _show)
    _sources.append(take)


def _show(*_: Any) -> None:
    for take in _sources:
        line = take()
        if line:
            print(line)
