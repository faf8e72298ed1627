"""Running one DuckDB statement on a worker thread while the caller's thread reports progress and
answers Ctrl-C (through the statement's `engines.base.CtrlC` guard).

On Ctrl-C, `con.interrupt()` is sent at once and again every POLL_S until the worker has stopped:
DuckDB forgets an interrupt that arrives before the statement has begun (it clears the flag when
a statement starts), and on a busy machine the worker can be that late. Should DuckDB not stop
within GRACE_S (or on a second Ctrl-C), the connection is left to a reaper thread and the caller
gets control back."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from lakelab.engines.base import CtrlC
from lakelab.errors import EngineError, LakelabError

POLL_S = 0.1  # how often the caller repeats an interrupt
PROGRESS_S = 0.2  # how often it reports progress
GRACE_S = 1.5  # after Ctrl-C, how long DuckDB may take to stop before the caller stops waiting


def run_statement(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    values: list[Any],
    guard: CtrlC,
    progress: Callable[[dict[str, Any]], None] | None,
    engine: str,
    forget: Callable[[], None],
    noted: Callable[[dict[str, Any]], None],
) -> pa.Table:
    """The statement's rows. On Ctrl-C: `noted` gets the seconds from Ctrl-C until DuckDB stopped,
    the interrupts sent and whether the statement was abandoned (then `forget` is called first,
    so the engine opens a fresh connection), and KeyboardInterrupt is raised."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["table"] = con.sql(sql, params=values or None).to_arrow_table()
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = e

    started = time.monotonic()
    worker = threading.Thread(target=work, name="lakelab-duckdb", daemon=True)
    with guard.native(cancel=con.interrupt):
        worker.start()
        sent = 0
        report_at = started + PROGRESS_S
        while worker.is_alive():
            worker.join(POLL_S)
            if not worker.is_alive():
                break
            if guard.pending:
                con.interrupt()
                sent += 1
                if guard.pending > 1 or time.monotonic() - (guard.first_at or started) > GRACE_S:
                    forget()
                    _reap(con, worker)
                    break
            elif progress and time.monotonic() >= report_at:
                report_at += PROGRESS_S
                progress(
                    {
                        "state": "RUNNING",
                        "progress": _progress(con),
                        "elapsed_s": time.monotonic() - started,
                        "engine": engine,
                    }
                )
        if guard.pending:  # leaving the block raises KeyboardInterrupt
            noted(
                {
                    "latency_s": time.monotonic() - (guard.first_at or started),
                    "interrupts_sent": sent + 1,
                    "abandoned": worker.is_alive(),
                }
            )
    if "error" in box:
        err = box["error"]
        if isinstance(err, (LakelabError, KeyboardInterrupt)):
            raise err
        raise EngineError(f"query failed: {clean(err)}") from None
    if progress:
        progress(
            {
                "state": "FINISHED",
                "progress": 100.0,
                "elapsed_s": time.monotonic() - started,
                "rows": box["table"].num_rows,
                "engine": engine,
            }
        )
    return box["table"]


def _reap(con: duckdb.DuckDBPyConnection, worker: threading.Thread) -> None:
    """Keep interrupting a statement nobody waits for; close its connection once it stops."""

    def reap() -> None:
        while worker.is_alive():
            with contextlib.suppress(duckdb.Error):
                con.interrupt()
            worker.join(POLL_S)
        with contextlib.suppress(duckdb.Error):
            con.close()

    threading.Thread(target=reap, name="lakelab-duckdb-reaper", daemon=True).start()


def _progress(con: duckdb.DuckDBPyConnection) -> float | None:
    try:
        pct = con.query_progress()
    except Exception:  # noqa: BLE001 - progress is best effort
        return None
    return float(pct) if pct is not None and pct >= 0 else None


def clean(err: BaseException) -> str:
    """A DuckDB error as the user's query would say it (view names and the caret block gone)."""
    text = str(err).replace("__lk_t", "t").replace("__lk_", "t")
    return text.split("\n\nLINE", 1)[0] if "\n\nLINE" in text else text
