"""Plain data -> JSON-safe data for the REST API.

Iceberg snapshot ids are 64-bit and JavaScript numbers are exact only to 2**53, so ids
travel as strings; preview values become JSON types (dates as ISO text, bytes as base64,
NaN as null)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import uuid
from typing import Any

import pyarrow as pa

ID_KEYS = {"snapshot_id", "parent_id", "current_snapshot_id", "upstream_snapshot_id"}
MAX_SAFE_INT = 2**53 - 1


def ids_as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (str(v) if k in ID_KEYS and isinstance(v, int) else ids_as_text(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [ids_as_text(v) for v in value]
    return value


def json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if abs(v) <= MAX_SAFE_INT else str(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):  # Arrow maps come as (key, value) pairs
            return {str(k): json_value(x) for k, x in v}
        return [json_value(x) for x in v]
    return str(v)


def arrow_preview(table: pa.Table) -> dict[str, Any]:
    columns = [{"name": f.name, "type": str(f.type)} for f in table.schema]
    names = table.column_names
    rows = [[json_value(rec[n]) for n in names] for rec in table.to_pylist()]
    return {"columns": columns, "rows": rows, "row_count": len(rows)}
