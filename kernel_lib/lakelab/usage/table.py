"""The usage table: where it lives and its columns (one row per table a query read)."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa

SYSTEM_NAMESPACE = "lakelab_system"
USAGE_TABLE = f"{SYSTEM_NAMESPACE}.usage"
SCHEMA = pa.schema(
    [
        pa.field("ts", pa.timestamp("us", tz="UTC")),
        pa.field("query_id", pa.string()),
        pa.field("user_name", pa.string()),
        pa.field("engine", pa.string()),
        pa.field("table_name", pa.string()),
        pa.field("snapshot_id", pa.int64()),
        pa.field("rows", pa.int64()),
        pa.field("elapsed_ms", pa.float64()),
        pa.field("sql", pa.string()),
        pa.field("notebook", pa.string()),
    ]
)


def is_system(dotted: str) -> bool:
    return dotted.split(".", 1)[0] == SYSTEM_NAMESPACE


def since(cutoff: datetime) -> str:
    """A row filter for the rows at or after `cutoff` (a datetime we made, never user text)."""
    return f"ts >= '{cutoff.astimezone(timezone.utc).isoformat()}'"
