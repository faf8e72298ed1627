"""Warm-up on `%load_ext lakelab`: the first query's cost is imports (duckdb, pyiceberg's
readers, sqlglot's dialects, the grid widget), opening the catalog and the engine's connection,
not the query. A daemon thread does that work while the user writes the next cell; the magics
call `lakehouse()`, which waits for it, so two threads never build the same thing twice.

Then a second thread, which nothing waits for, prepares the catalog's tables for the embedded
engine (`DuckDBEngine.prefetch`: metadata loaded, files planned, views made; a bounded number
of tables for a bounded time, one at a time under the engine's statement lock, stopping once
the user runs a statement), so the first query over them pays for none of that.

Nothing here may fail a notebook: an error while warming is dropped, and the first query meets
it again and reports it the usual way."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

_thread: threading.Thread | None = None
PREFETCH_TABLES = 64  # at most this many tables (namespace order), for at most PREFETCH_S
PREFETCH_S = 3.0


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
    if hasattr(engine, "prefetch"):
        threading.Thread(target=_prefetch, args=(lh, engine), name="lakelab-prefetch", daemon=True).start()


def _tables(lh: Lakehouse) -> list:
    """The catalog's tables, up to PREFETCH_TABLES, lakelab's own system tables left out."""
    from lakelab.usage.table import is_system

    names: list = []
    for ns in lh.catalog.list_namespaces():
        if is_system(".".join(ns)):
            continue
        names += [lh.table_name(".".join(t)) for t in lh.catalog.list_tables(ns)]
        if len(names) >= PREFETCH_TABLES:
            break
    return names[:PREFETCH_TABLES]


def _prefetch(lh: Lakehouse, engine: Any) -> None:
    try:
        engine.prefetch(_tables(lh), PREFETCH_S)
    except Exception:  # noqa: BLE001 - the first query over a table prepares it the usual way
        pass


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
