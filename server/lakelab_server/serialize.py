"""Library values -> JSON-safe data for the REST API: THE one place that does it.

`to_json` takes the typed values of lakelab.datasets.models (dataclasses), plain dicts and
lists of them. Iceberg snapshot ids are 64-bit and JavaScript numbers are exact only to
2**53, so ids travel as strings; datetimes become ISO-8601 text; a dataclass field marked
`OMIT_NONE` / `OMIT_EMPTY` is left out when None / empty. `arrow_preview` turns preview rows into JSON
types (dates as ISO text, bytes as base64, NaN as null)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import math
import uuid
from typing import Any

import pyarrow as pa

ID_KEYS = {"snapshot_id", "parent_id", "current_snapshot_id", "upstream_snapshot_id"}
MAX_SAFE_INT = 2**53 - 1


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            omit = f.metadata.get("omit")
            if (omit == "none" and v is None) or (omit == "empty" and not v):
                continue
            out[f.name] = _item(f.name, v)
        return out
    if isinstance(value, dict):
        return {str(k): _item(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _item(key: str, value: Any) -> Any:
    if key in ID_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return to_json(value)


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
