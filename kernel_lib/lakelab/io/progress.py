"""Progress bars for long operations: shown only when someone is watching (a notebook kernel
or a terminal) and the operation lasts, so scripts, tests and quick calls stay quiet."""

from __future__ import annotations

import sys
from typing import Any

SHOW_AFTER_S = 1.0  # quick operations never flash a bar


def interactive() -> bool:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and getattr(shell, "kernel", None) is not None:
            return True
    except ImportError:
        pass
    return sys.stderr.isatty()


def progress_bar(progress: bool | None, total: int | None, label: str, unit: str = " rows") -> Any:
    """A tqdm bar (widget in notebooks, text in terminals), or None: `progress` False = never,
    True = always, None = when interactive."""
    if progress is False or (progress is None and not interactive()):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, unit_scale=True, desc=label[:60], delay=SHOW_AFTER_S, leave=False)
