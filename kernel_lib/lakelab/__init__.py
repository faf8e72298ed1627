"""lakelab: a notebook-first lakehouse toolkit (Iceberg + Trino/DuckDB + Ray) for JupyterLab."""

from __future__ import annotations

__version__ = "0.1.0"

from lakelab.errors import Conflict, InvalidInput, LakelabError, NotFound, Unsupported
from lakelab.lakehouse import Lakehouse, connect


def workspace(name: str):
    """A handle on a Ray workspace: .connect(), .status(), .scale(n), .stop()."""
    from lakelab.workspaces.client import Workspace

    return Workspace(name)


def __getattr__(name: str):
    if name == "widgets":  # lakelab.widgets.ingest() / .publish(): imported on first use (anywidget, altair)
        import importlib

        return importlib.import_module("lakelab.notebook.widgets")
    raise AttributeError(f"module 'lakelab' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:  # %load_ext lakelab
    from lakelab.notebook.magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython) -> None:
    from lakelab.notebook.magics import unload_ipython_extension as _unload

    _unload(ipython)


__all__ = [
    "Conflict",
    "InvalidInput",
    "Lakehouse",
    "LakelabError",
    "NotFound",
    "Unsupported",
    "__version__",
    "connect",
    "workspace",
]
