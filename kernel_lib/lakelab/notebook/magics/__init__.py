"""IPython magics: thin wrappers over the Lakehouse API. Each family lives in its own
module and is registered here; `user_errors` turns domain errors into a one-line message."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError

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


def show_error(err: BaseException) -> None:
    """Print a user's mistake as one red line, no traceback."""
    from IPython.display import HTML, display

    from lakelab.notebook.display import error_html

    try:
        display(HTML(error_html(err)))
    except Exception:  # noqa: BLE001 - no frontend: plain stderr
        print(f"lakelab error: {err}", file=sys.stderr)


def user_errors(fn: Callable) -> Callable:
    """Decorator for magic methods: domain errors and bad options are shown, not raised."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LakelabError as e:
            show_error(e)
        except SystemExit:  # argparse already printed the usage problem
            return None
        except IPythonUsageError as e:  # bad or unknown magic options
            show_error(UsageError(str(e)))
        except KeyboardInterrupt:
            show_error(LakelabError("interrupted: the query was cancelled"))
        return None

    return wrapper


def load_ipython_extension(ipython) -> None:
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


def unload_ipython_extension(ipython) -> None:
    pass
