"""What a kernel running a dashboard is told through its environment.

- Publishing runs the notebook in a fresh kernel with `LAKELAB_RECORD_READS=<file>`: every
  read announced through `observers` (engine queries and direct dataset reads) is appended to
  that file as one JSON line, so the publisher learns the inputs and their snapshots.
- The live view (Voilà) starts its kernel with `LAKELAB_DASHBOARD_PINS` (JSON `{"ns.t": id}`)
  when the viewer asked for the version's snapshots: engines and datasets then read those
  tables at the pinned snapshot instead of the current one.

`lakelab.connect()` (through `Lakehouse`) calls `apply_environment()` once per process.
"""

from __future__ import annotations

import json
import os
import threading

from lakelab.engines.observers import ReadEvent, subscribe

RECORD_ENV = "LAKELAB_RECORD_READS"
PINS_ENV = "LAKELAB_DASHBOARD_PINS"

_lock = threading.Lock()
_applied = False
_pins: dict[str, int] = {}


def pinned_snapshot(table: str) -> int | None:
    """The snapshot this process must read `table` ("ns.name") at, or None for the current one."""
    return _pins.get(table)


def _recorder(path: str):
    def record(event: ReadEvent) -> None:
        lines = "".join(
            json.dumps({"table": r.table, "snapshot_id": r.snapshot_id, "engine": event.engine}) + "\n"
            for r in event.reads
        )
        if lines:
            with open(path, "a", encoding="utf-8") as f:  # appended per event: a dying kernel loses nothing
                f.write(lines)

    return record


def apply_environment() -> None:
    """Subscribe the read recorder and load the pins named by the environment (once)."""
    global _applied
    with _lock:
        if _applied:
            return
        _applied = True
        path = os.environ.get(RECORD_ENV)
        if path:
            subscribe(_recorder(path))
        raw = os.environ.get(PINS_ENV)
        if raw:
            try:
                pins = json.loads(raw)
            except ValueError:
                pins = {}
            if isinstance(pins, dict):
                _pins.update({str(k): int(v) for k, v in pins.items() if isinstance(v, int)})
