"""Usage recording: who ran which query, when, on which engine, reading which tables at which
snapshots, how long it took and how many rows it returned.

The recorder listens to engines/observers.py (every query announces a ReadEvent) and keeps
rows in memory; a background thread appends them in batches to the Iceberg table
`lakelab_system.usage` through the one write path (write/commit.py), so Trino can query it too.
One row per table a query read (a query that read no table: one row with no table).

- switched off by `usage: {enabled: false}` in the config or LAKELAB_USAGE=off;
- never kept for a user who opted out (`usage.opt_out` lists them; LAKELAB_USAGE_OPT_OUT=1
  opts out whoever runs the process): their events are dropped before they are buffered;
- reads of the system namespace itself are not usage;
- bounded: beyond `max_pending` waiting rows new ones are dropped and counted; a failed batch
  is logged and counted, never retried forever and never raised into a query;
- retention (retention.py) runs after a batch when the table has many small files.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakelab.catalog.metadata import Lineage, current_user, notebook_path
from lakelab.engines import observers
from lakelab.engines.observers import ReadEvent
from lakelab.usage.table import SCHEMA, USAGE_TABLE, is_system

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

log = logging.getLogger(__name__)

MAX_SQL = 4000  # characters of a query's text kept


def opted_out(lh: Lakehouse, user: str) -> bool:
    if os.environ.get("LAKELAB_USAGE_OPT_OUT", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    return user.lower() in {u.lower() for u in lh.config.usage.opt_out}


class Recorder:
    """Buffers usage rows for one lakehouse and writes them in batches on a daemon thread."""

    def __init__(self, lh: Lakehouse):
        self.lh = lh
        self.conf = lh.config.usage
        self.pending: list[dict[str, Any]] = []
        self.written = self.dropped = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._writing = threading.Lock()  # one batch at a time (the thread, flush(), close())
        self._thread = threading.Thread(target=self._loop, name="lakelab-usage", daemon=True)
        self._thread.start()

    def on_read(self, event: ReadEvent) -> None:
        user = current_user()
        if opted_out(self.lh, user):
            return
        reads = [r for r in event.reads if not is_system(r.table)]
        if event.reads and not reads:
            return  # only the system tables: not usage
        now = datetime.now(timezone.utc)
        common = {
            "ts": now,
            "query_id": event.query_id or uuid.uuid4().hex,
            "user_name": user,
            "engine": event.engine,
            "rows": event.rows,
            "elapsed_ms": None if event.elapsed_s is None else round(event.elapsed_s * 1000, 3),
            "sql": (event.sql or "")[:MAX_SQL] or None,
            "notebook": notebook_path(),
        }
        rows = [{**common, "table_name": r.table, "snapshot_id": r.snapshot_id} for r in reads] or [
            {**common, "table_name": None, "snapshot_id": None}
        ]
        with self._lock:
            room = self.conf.max_pending - len(self.pending)
            if room < len(rows):
                self.dropped += len(rows) - max(room, 0)
                rows = rows[: max(room, 0)]
                log.warning("lakelab: usage rows dropped (%d waiting already; %d dropped)", room, self.dropped)
            self.pending.extend(rows)
            full = len(self.pending) >= self.conf.batch_rows
        if full:
            self._wake.set()

    def _loop(self) -> None:
        while not self._stop:
            self._wake.wait(self.conf.flush_s)
            self._wake.clear()
            if not self._stop:
                self.flush()

    def flush(self) -> int:
        """Write the waiting rows now; returns how many were written (0 on failure: logged)."""
        with self._writing:
            with self._lock:
                batch, self.pending = self.pending, []
            if not batch:
                return 0
            try:
                write_rows(self.lh, batch)
            except Exception:
                with self._lock:
                    self.dropped += len(batch)
                log.warning("lakelab: a usage batch of %d rows could not be written", len(batch), exc_info=True)
                return 0
            self.written += len(batch)
        from lakelab.usage.retention import maybe_compact

        maybe_compact(self.lh)
        return len(batch)

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=self.conf.flush_s + 1)
        self.flush()


def write_rows(lh: Lakehouse, rows: list[dict[str, Any]]) -> None:
    from lakelab.write.commit import write

    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    write(lh.catalog, lh.table_name(USAGE_TABLE), table, mode="append", lineage=Lineage(operation="usage"))


# -- the process's recorder ----------------------------------------------------------------
# Observers are process-wide and a ReadEvent does not say which lakehouse ran it: the usage of a
# process goes to the lakehouse started last (the notebook's, the server's), as `connect()` does.
_current: Recorder | None = None
_unsubscribe: Any = None
_state_lock = threading.Lock()


def _listen(event: ReadEvent) -> None:
    rec = _current
    if rec is not None:
        rec.on_read(event)


def attach(lh: Lakehouse) -> Recorder | None:
    """Record this process's usage into `lh` (None when usage is switched off)."""
    global _current, _unsubscribe
    if not lh.config.usage.enabled:
        return None
    with _state_lock:
        old, _current = _current, Recorder(lh)
        if _unsubscribe is None:
            _unsubscribe = observers.subscribe(_listen)
            _at_exit(_flush_quietly)  # the last seconds of a kernel's usage, all of a CLI's
    if old is not None:
        old.close()
    return _current


def detach(lh: Lakehouse) -> None:
    """Stop recording into `lh` (its waiting rows are written first)."""
    global _current
    with _state_lock:
        rec = _current if _current is not None and _current.lh is lh else None
        if rec is not None:
            _current = None
    if rec is not None:
        rec.close()


def _at_exit(fn: Any) -> None:
    """Run `fn` when the interpreter exits, while thread pools still take work (the write path
    writes files on a pool, which refuses new work once `atexit` handlers run)."""
    register = getattr(threading, "_register_atexit", None)
    (register or atexit.register)(fn)


def _flush_quietly() -> None:
    try:
        flush()
    except Exception:  # noqa: BLE001 - at exit, never a traceback for usage
        pass


def recorder() -> Recorder | None:
    return _current


def flush() -> int:
    """Write the waiting usage rows now (tests, benchmarks, `lh.dataset(x).usage()`)."""
    rec = _current
    return rec.flush() if rec is not None else 0
