"""Retention of the usage table: it never grows without bound.

Each batch appends a small file. When the table holds more than `COMPACT_FILES` data files,
`compact` rewrites it in one commit (through the one write path) keeping only the rows of the
last `usage.retention_days` days, then expires the snapshots older than `KEEP_SNAPSHOTS_S`,
so the old rows' files can be removed (`lakelab orphans --delete` removes files no snapshot
references). The overwrite is made against the table as it was read (`base`): a batch that
lands meanwhile makes it a Conflict, and compaction simply waits for the next batch.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from lakelab.catalog.access import load_table, table_exists
from lakelab.catalog.metadata import Lineage
from lakelab.errors import Conflict
from lakelab.usage.table import USAGE_TABLE, since

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

log = logging.getLogger(__name__)

COMPACT_FILES = 64  # data files in the current snapshot before a compaction
KEEP_SNAPSHOTS_S = 3600  # snapshots older than this are expired after a compaction (time travel: 1 h)
_lock = threading.Lock()


def file_count(lh: Lakehouse) -> int:
    table = load_table(lh.catalog, lh.table_name(USAGE_TABLE))
    snap = table.current_snapshot()
    props = snap.summary.additional_properties if snap is not None and snap.summary is not None else {}
    return int(props.get("total-data-files", 0))


def maybe_compact(lh: Lakehouse) -> None:
    try:
        if file_count(lh) > COMPACT_FILES:
            compact(lh)
    except Exception:
        log.warning("lakelab: the usage table could not be compacted", exc_info=True)


def compact(lh: Lakehouse, now: datetime | None = None) -> dict[str, Any]:
    """Rewrite the usage table as one commit of the rows within the retention, and expire old
    snapshots. Returns {"kept", "removed", "files_before", "expired"}."""
    from lakelab.write.commit import write

    name = lh.table_name(USAGE_TABLE)
    if not table_exists(lh.catalog, name):
        return {"kept": 0, "removed": 0, "files_before": 0, "expired": 0}
    with _lock:
        now = now or datetime.now(timezone.utc)
        cutoff = now - timedelta(days=lh.config.usage.retention_days)
        table = load_table(lh.catalog, name)
        before = file_count(lh)
        total = table.scan(selected_fields=("ts",)).to_arrow().num_rows
        kept = table.scan(row_filter=since(cutoff)).to_arrow()
        try:
            write(lh.catalog, name, kept, mode="overwrite", lineage=Lineage(operation="usage"), base=table, retries=1)
        except Conflict:  # a batch landed meanwhile: compact after the next one
            return {"kept": 0, "removed": 0, "files_before": before, "expired": 0}
        table = load_table(lh.catalog, name)
        old = [
            s.snapshot_id
            for s in table.snapshots()
            if s.timestamp_ms < (now.timestamp() - KEEP_SNAPSHOTS_S) * 1000
            and s.snapshot_id != (table.current_snapshot() or s).snapshot_id
        ]
        if old:
            table.maintenance.expire_snapshots().by_ids(old).commit()
        return {"kept": kept.num_rows, "removed": total - kept.num_rows, "files_before": before, "expired": len(old)}
