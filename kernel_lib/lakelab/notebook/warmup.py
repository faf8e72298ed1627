"""Warm-up on `%load_ext lakelab`: the first query's cost is imports (duckdb, pyiceberg's
readers, sqlglot's dialects, the grid widget), opening the catalog and the engine's connection,
not the query. A daemon thread does that work while the user writes the next cell; the magics
call `lakehouse()`, which waits for it, so two threads never build the same thing twice.

Nothing here may fail a notebook: an error while warming is dropped, and the first query meets
it again and reports it the usual way."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

_thread: threading.Thread | None = None


def _warm() -> None:
    import importlib

    for module in (
        "duckdb",
        "pyarrow.dataset",
        "pyiceberg.io.pyarrow",  # scans and manifest reading
        "pyiceberg.avro.decoder_fast",
        "sqlglot.dialects.trino",
        "sqlglot.dialects.duckdb",
        "lakelab.notebook.widgets.grid",  # anywidget, the paging queries
    ):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - an optional accelerator or widget stack missing
            continue
    from pyiceberg.utils.concurrent import ExecutorFactory

    ExecutorFactory.get_or_create()  # the pool pyiceberg plans manifests on (tens of ms to start)
    from lakelab.lakehouse import connect

    lh = connect()
    lh.catalog  # noqa: B018 - opens the catalog (SQL catalogs: the database driver and its engine)
    engine = lh.engine()
    warm = getattr(engine, "warm", None)
    if warm is not None:
        warm()


def _run() -> None:
    try:
        _warm()
    except Exception:  # noqa: BLE001 - the first query reports whatever went wrong
        pass


def start() -> None:
    """Begin warming in the background (once per process)."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_run, name="lakelab-warmup", daemon=True)
        _thread.start()


def lakehouse() -> Lakehouse:
    """The notebook's lakehouse (`lakelab.connect()`), once any warm-up has finished with it."""
    if _thread is not None and _thread is not threading.current_thread():
        _thread.join()
    from lakelab.lakehouse import connect

    return connect()
