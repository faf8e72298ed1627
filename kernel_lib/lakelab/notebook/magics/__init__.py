"""IPython magics: thin wrappers over the Lakehouse API. Each family lives in its own
module and is registered here; `user_errors` turns a failure into one line and a failed cell."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError

from lakelab.config import redact
from lakelab.errors import LakelabError

# (module, class) of every magics class; a module that is missing is skipped with a warning
MAGIC_CLASSES = [
    ("sql", "SqlMagics"),  # %%trino
    ("ingest", "IngestMagics"),  # %ingest
    ("publish", "PublishMagics"),  # %publish
    ("workspace", "WorkspaceMagics"),  # %workspace
]


class UsageError(LakelabError):
    code = "usage"


class MagicError(Exception):
    """A magic that failed, as the notebook shows it: IPython prints what `_render_traceback_`
    returns (one line) instead of a traceback, in a kernel as in a terminal, and the cell ends
    in error — so Run All stops there and nbclient/papermill raise CellExecutionError."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line

    def _render_traceback_(self) -> list[str]:
        return [self.line]


class MagicInterrupted(KeyboardInterrupt):
    """Ctrl-C in a magic, shown as one line. Still a KeyboardInterrupt, so a loop of magics in
    the user's code stops too."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line

    def _render_traceback_(self) -> list[str]:
        return [self.line]


def error_line(err: BaseException) -> str:
    """`lakelab error: <message> — <hint>` on one line, with credentials in URIs masked."""
    if isinstance(err, LakelabError):
        text = err.message + (f" — {err.hint}" if err.hint else "")
    else:
        text = str(err)
    # redact() masks user:password@ in a URI; applied word by word, so URIs inside a sentence
    return "lakelab error: " + " ".join(str(redact(word)) for word in text.split())


def user_errors(fn: Callable) -> Callable:
    """Decorator for magic methods: domain errors, a catalog's error answers, bad options and
    Ctrl-C fail the cell with one line and no traceback; anything else (a bug) keeps its traceback."""
    stopped = "the query was cancelled" if fn.__name__ == "trino" else f"%{fn.__name__} was stopped"

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LakelabError as e:
            raise MagicError(error_line(e)) from e
        except IPythonUsageError as e:  # bad or unknown magic options
            raise MagicError(error_line(UsageError(str(e)))) from e
        except SystemExit as e:  # argparse exits after printing --help (0) or a usage problem
            if e.code in (0, None):
                return None
            raise MagicError(error_line(UsageError(f"%{fn.__name__}: invalid options"))) from None
        except MagicInterrupted:
            raise
        except KeyboardInterrupt as e:
            raise MagicInterrupted(error_line(LakelabError(f"interrupted: {stopped}"))) from e
        except Exception as e:
            from lakelab.catalog.access import catalog_failure

            failed = catalog_failure(e)  # a catalog's error answer the library did not wrap
            if failed is None:
                raise
            raise MagicError(error_line(failed)) from e

    return wrapper


def cell_noter(ipython: Any) -> Callable[[Any], None]:
    """A pre_run_cell hook that tells the lineage writer which cell runs ("In [7] (cell <id>)")."""
    from lakelab.catalog.metadata import set_current_cell

    def lakelab_note_cell(info: Any) -> None:
        where = f"In [{ipython.execution_count}]"
        cell_id = getattr(info, "cell_id", None)  # JupyterLab sends the cell's id (IPython 8+)
        set_current_cell(f"{where} (cell {cell_id})" if cell_id else where)

    return lakelab_note_cell


def load_ipython_extension(ipython) -> None:
    hooks = ipython.events.callbacks["pre_run_cell"]
    if not any(getattr(h, "__name__", "") == "lakelab_note_cell" for h in hooks):  # %reload_ext: once
        ipython.events.register("pre_run_cell", cell_noter(ipython))
    for module, cls in MAGIC_CLASSES:
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ImportError as e:
            print(f"lakelab: {module} magics unavailable: {e}", file=sys.stderr)
            continue
        ipython.register_magics(getattr(mod, cls))
        hook = getattr(mod, "on_load", None)
        if hook:
            hook(ipython)
    from lakelab.notebook import warmup

    warmup.start()  # imports, the catalog and the engine, while the user writes the next cell


def unload_ipython_extension(ipython) -> None:
    pass
