"""Comparing answers of two engines: the rule the cross-engine tests and docs/trino.md state."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import pyarrow as pa

# doubles (and decimals, compared as doubles) may differ by summation order: relative 1e-9
REL_TOL = 1e-9
ABS_TOL = 1e-9


def has_top_level_order_by(sql: str) -> bool:
    """ORDER BY outside any parentheses: the query promises an order."""
    depth, text = 0, re.sub(r"'[^']*'", "''", sql)
    for m in re.finditer(r"[()]|\border\s+by\b", text, re.I):
        tok = m.group(0)
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
        elif depth == 0:
            return True
    return False


def _norm(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, list):
        return tuple(_norm(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _norm(x)) for k, x in v.items()))
    return v


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _key(row: tuple) -> tuple:
    return tuple(
        (x is None, str(type(x).__name__) if x is None else "", round(x, 6) if isinstance(x, float) else x) for x in row
    )


def differences(trino: pa.Table, local: pa.Table, ordered: bool) -> str | None:
    """None when equal under the rule; else a short description of the first difference."""
    if trino.column_names != local.column_names:
        return f"columns differ: {trino.column_names} vs {local.column_names}"
    a = [tuple(_norm(v) for v in r.values()) for r in trino.to_pylist()]
    b = [tuple(_norm(v) for v in r.values()) for r in local.to_pylist()]
    if len(a) != len(b):
        return f"row counts differ: {len(a)} vs {len(b)}"
    if not ordered:
        a, b = sorted(a, key=_key), sorted(b, key=_key)
    for i, (x, y) in enumerate(zip(a, b)):
        if not _same(x, y):
            return f"row {i} differs: trino {x} vs embedded {y}"
    return None


def arrow_as_trino(t: pa.DataType) -> str:
    """An embedded result column's Arrow type in Trino's spelling (varchar without length)."""
    simple = {
        pa.int8(): "tinyint",
        pa.int16(): "smallint",
        pa.int32(): "integer",
        pa.int64(): "bigint",
        pa.float32(): "real",
        pa.float64(): "double",
        pa.bool_(): "boolean",
        pa.string(): "varchar",
        pa.binary(): "varbinary",
        pa.date32(): "date",
    }
    if t in simple:
        return simple[t]
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_map(t):
        return f"map({arrow_as_trino(t.key_type)}, {arrow_as_trino(t.item_type)})"
    if pa.types.is_list(t):
        return f"array({arrow_as_trino(t.value_type)})"
    if pa.types.is_struct(t):
        return "row(" + ", ".join(f"{f.name} {arrow_as_trino(f.type)}" for f in t) + ")"
    return str(t)


def trino_type_names(trino_engine: Any, sql: str, names: list[str]) -> list[str] | None:
    """Trino's own type of each result column (typeof), varchar lengths and json as varchar."""
    cols = ", ".join('typeof("' + n.replace('"', '""') + '")' for n in names)
    rows = trino_engine.execute(f"SELECT {cols} FROM ({sql}) AS q LIMIT 1").table.to_pylist()
    if not rows:
        return None
    return [re.sub(r"varchar\(\d+\)", "varchar", v).replace("json", "varchar") for v in rows[0].values()]
